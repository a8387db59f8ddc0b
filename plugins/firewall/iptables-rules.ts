/**
 * The reference firewall plugin's iptables rules, as iptables-save prints them, so that the
 * plugin can tell which exist from one iptables-save and add or remove them with one
 * iptables-restore --noflush, and so that admin rules in CNI-ADMIN keep working.
 */
export const FORWARD_CHAIN = 'CNI-FORWARD';

export const jumpToForwardChain = `-A FORWARD -m comment --comment "CNI firewall plugin rules" -j ${FORWARD_CHAIN}`;
export const jumpToAdminChain = (admin: string) => `-A ${FORWARD_CHAIN} -m comment --comment "CNI firewall plugin admin overrides" -j ${admin}`;

export const allowRules = (address: string): string[] => [
  `-A ${FORWARD_CHAIN} -d ${address} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  `-A ${FORWARD_CHAIN} -s ${address} -j ACCEPT`,
];

/** The filter table of one iptables-save output: its chains and its rules ("-A CHAIN …" lines). */
export interface FilterTable {
  chains: Set<string>;
  rules: Set<string>;
}

/** undefined when the output has no filter table. */
export function parseFilterTable(saved: string): FilterTable | undefined {
  let table: FilterTable | undefined;
  let inFilter = false;
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      inFilter = line === '*filter';
      if (inFilter) table = { chains: new Set(), rules: new Set() };
    } else if (inFilter && line.startsWith(':')) {
      table!.chains.add(line.slice(1).split(' ')[0]);
    } else if (inFilter && line.startsWith('-A ')) {
      table!.rules.add(line.trim());
    }
  }
  return table;
}

export interface AllowRequest {
  address: string;
  adminChain: string;
}

/**
 * What iptables-restore --noflush must do to add the allow rules: declare missing chains (a
 * declared existing chain would be flushed), insert the jumps first in their chains, append
 * the per-address rules. undefined when everything is there.
 */
export function installScript(table: FilterTable | undefined, requests: AllowRequest[]): string | undefined {
  const chains = table?.chains ?? new Set<string>();
  const rules = table?.rules ?? new Set<string>();
  const lines: string[] = [];
  const declared = new Set<string>();
  const declare = (chain: string) => {
    if (chains.has(chain) || declared.has(chain)) return;
    declared.add(chain);
    lines.unshift(`:${chain} - [0:0]`);
  };
  const insertFirst = (rule: string) => {
    if (rules.has(rule) || lines.includes(asInsert(rule))) return;
    lines.push(asInsert(rule));
  };
  const append = (rule: string) => {
    if (rules.has(rule) || lines.includes(rule)) return;
    lines.push(rule);
  };
  for (const { address, adminChain } of requests) {
    declare(FORWARD_CHAIN);
    declare(adminChain);
    insertFirst(jumpToForwardChain);
    insertFirst(jumpToAdminChain(adminChain));
    allowRules(address).forEach(append);
  }
  return lines.length ? script(lines) : undefined;
}

/** Deletes the per-address rules that exist; the chains and jumps stay (CNI-ADMIN holds the admin's rules). */
export function uninstallScript(table: FilterTable | undefined, addresses: string[]): string | undefined {
  const present = addresses.flatMap(allowRules).filter((rule) => table?.rules.has(rule));
  return present.length ? script([...new Set(present)].map((rule) => rule.replace(/^-A /, '-D '))) : undefined;
}

/** The rules of a request that iptables-save does not show. */
export function missingRules(table: FilterTable | undefined, request: AllowRequest): string[] {
  const wanted = [jumpToForwardChain, jumpToAdminChain(request.adminChain), ...allowRules(request.address)];
  return wanted.filter((rule) => !table?.rules.has(rule));
}

const asInsert = (rule: string) => rule.replace(/^-A (\S+) /, '-I $1 1 ');

const script = (lines: string[]) => `*filter\n${lines.join('\n')}\nCOMMIT\n`;
