import { childProcess } from '../../lib/start/builtins';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalizeRangeSet, type RangeInput } from '../../ipam/host-local/range';
import { formatIP, formatPrefix, prefixesOverlap, type Prefix } from '../../lib/ip';
import { loadNetworks } from '../../lib/libcni/conf-files';
import { listAddresses, listLinks, openHostSocket } from '../../lib/netlink';
import { openNft } from '../../lib/nft';
import { assertNftUsable } from '../../lib/nft/usable';
import type { NetConfList } from '../../lib/types';
import { findDnsmasq } from '../../plugins/dnsname/dnsmasq';
import { RECORDED_COMPONENTS } from '../../plugins/recorded-components';
import type { NetworkView, Places } from './inventory';

export type Status = 'ok' | 'warn' | 'fail';

export interface Finding {
  check: string;
  status: Status;
  detail: string;
  /** The command (or change) that fixes it. */
  fix?: string;
}

const ok = (check: string, detail: string): Finding => ({ check, status: 'ok', detail });

/**
 * A cni-ts command that works as printed: with the state directory doctor read (CNI_TS_STATE_DIR)
 * and the options that told it where to look (`placeArgs`, as given).
 */
export function cniTsCommand(places: Places, placeArgs: string[], command: string): string {
  const state = places.env.CNI_TS_STATE_DIR ? `CNI_TS_STATE_DIR=${shellWord(places.env.CNI_TS_STATE_DIR)} ` : '';
  return `${state}cni-ts ${command}${placeArgs.map((a) => ` ${shellWord(a)}`).join('')}`;
}

const shellWord = (word: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);

/** `cni-ts doctor`: the usual traps of a host, then drift between the suite's state and the kernel. */
export async function doctor(places: Places, binDirs: string[], networks: NetworkView[], placeArgs: string[] = []): Promise<Finding[]> {
  const command = (what: string) => cniTsCommand(places, placeArgs, what);
  const loaded = loadNetworks(places.confDir);
  const lists = loaded.flatMap((l) => ('list' in l ? [l.list] : []));
  const unreadable = loaded.flatMap((l) => ('error' in l ? [l] : []));
  return [
    ...unreadable.map((l) => ({ check: 'conflist', status: 'fail' as const, detail: `${l.file} cannot be used: ${l.error}`, fix: `fix or remove ${l.file}` })),
    nftables(),
    forwarding(),
    bridgeNetfilter(lists),
    ...([4, 6] as const).map((family) => iptablesForward(family, lists, networks)),
    ...pluginsInstalled(lists, binDirs),
    ...dnsServer(lists, places),
    ...(await rangeOverlaps(lists)),
    ...goneNamespaces(networks, command('gc --yes')),
    ...entriesMissing(places, command('reapply')),
    ...unownedElements(places),
  ];
}

function nftables(): Finding {
  const backend = openNft().backend;
  try {
    assertNftUsable();
  } catch (err) {
    return { check: 'nftables', status: 'fail', detail: (err as Error).message, fix: 'apt install libnftables1 nftables' };
  }
  if (backend === 'libnftables') return ok('nftables', 'libnftables loads (rules are applied in-process)');
  return { check: 'nftables', status: 'warn', detail: 'libnftables.so.1 does not load: every rule change runs the nft binary', fix: 'apt install libnftables1' };
}

function forwarding(): Finding {
  const value = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  if (value === '1') return ok('forwarding', 'net.ipv4.ip_forward is 1');
  return {
    check: 'forwarding',
    status: 'warn',
    detail: 'net.ipv4.ip_forward is 0: containers reach nothing beyond their bridge until a bridge with "isGateway" turns it on',
    fix: 'sysctl -w net.ipv4.ip_forward=1',
  };
}

/**
 * Without br_netfilter, portmap's masquerade of same-subnet connections is enough for hairpin; with
 * it (bridge-nf-call-iptables=1, as Docker and Kubernetes set it), a container reaching its own
 * published port is DNATed back out of its own bridge port, which only hairpinMode allows.
 */
function bridgeNetfilter(lists: NetConfList[]): Finding {
  const callIptables = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables') && readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim() === '1';
  if (!callIptables) return ok('br_netfilter', 'bridged traffic does not pass iptables/nftables (not needed: portmap masquerades hairpin connections)');
  const withoutHairpin = lists.filter(
    (l) => l.plugins.some((p) => p.type === 'bridge' && !(p as { hairpinMode?: boolean }).hairpinMode) && l.plugins.some((p) => p.type === 'portmap'),
  );
  if (!withoutHairpin.length) return ok('br_netfilter', 'loaded; every bridge network with published ports has hairpinMode');
  return {
    check: 'br_netfilter',
    status: 'warn',
    detail: `bridge-nf-call-iptables is 1 and network(s) ${withoutHairpin.map((l) => l.name).join(', ')} publish ports without "hairpinMode": a container cannot reach its own published port`,
    fix: 'set "hairpinMode": true on their bridge plugin (Podman does)',
  };
}

/**
 * A FORWARD policy DROP (Docker, ufw) drops container traffic unless the firewall plugin put
 * CNI-FORWARD accept rules in for each address; it puts them in only when iptables had a FORWARD
 * chain at the container's ADD, so containers started before Docker or ufw have none.
 */
function iptablesForward(family: 4 | 6, lists: NetConfList[], networks: NetworkView[]): Finding {
  const check = `${family === 4 ? 'iptables' : 'ip6tables'} FORWARD`;
  const save = childProcess().spawnSync(family === 4 ? 'iptables-save' : 'ip6tables-save', ['-t', 'filter'], { encoding: 'utf8' });
  if (save.error || save.status !== 0) return ok(check, 'no filter table');
  if (!/^:FORWARD DROP/m.test(save.stdout)) return ok(check, 'policy ACCEPT');
  const without = lists.filter((l) => l.plugins.some((p) => p.type === 'bridge') && !l.plugins.some((p) => p.type === 'firewall')).map((l) => l.name);
  if (without.length) {
    return {
      check,
      status: 'fail',
      detail: `policy DROP (left by Docker or ufw) drops every forwarded packet of network(s) ${without.join(', ')}, which have no firewall plugin`,
      fix: `add {"type": "firewall"} after bridge in their conflists (it adds the CNI-FORWARD accept rules), or: ${check.split(' ')[0]} -P FORWARD ACCEPT`,
    };
  }
  const isFamily = (ip: string) => ip.includes(':') === (family === 6);
  const unadmitted = networks
    .filter((net) => net.plugins.includes('firewall'))
    .flatMap((net) =>
      net.attachments.flatMap((a) =>
        a.addresses
          .filter(isFamily)
          .filter((ip) => !save.stdout.includes(`-s ${ip}/${family === 4 ? 32 : 128} -j ACCEPT`))
          .map((ip) => `${ip} (${net.name})`),
      ),
    );
  if (!unadmitted.length) return ok(check, "policy DROP (Docker or ufw); the firewall plugin's CNI-FORWARD rules admit every container");
  return {
    check,
    status: 'fail',
    detail: `policy DROP, and no CNI-FORWARD accept rule for ${unadmitted.join(', ')}: started before iptables had a FORWARD chain`,
    fix: 'recreate those containers (their firewall ADD adds the rules), or: iptables -I FORWARD -s <address> -j ACCEPT',
  };
}

function pluginsInstalled(lists: NetConfList[], binDirs: string[]): Finding[] {
  const executable = (type: string) =>
    binDirs.some((dir) => {
      try {
        accessSync(join(dir, type), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return lists.flatMap((l) => {
    const types = l.plugins.flatMap((p) => [p.type, (p.ipam as { type?: string } | undefined)?.type]).filter((t): t is string => Boolean(t));
    const missing = [...new Set(types)].filter((t) => !executable(t));
    if (!missing.length) return [ok(`network ${l.name}`, `every plugin is installed (${[...new Set(types)].join(', ')})`)];
    return [
      {
        check: `network ${l.name}`,
        status: 'fail' as const,
        detail: `plugin(s) ${missing.join(', ')} not found in ${binDirs.join(':')}`,
        fix: 'install them (scripts/install.sh), or fix the "type" in the conflist',
      },
    ];
  });
}

function dnsServer(lists: NetConfList[], places: Places): Finding[] {
  if (!lists.some((l) => l.plugins.some((p) => p.type === 'dnsname'))) return [];
  if (findDnsmasq(places.env)) return [ok('dnsmasq', 'installed (dnsname runs one per network)')];
  return [{ check: 'dnsmasq', status: 'fail', detail: 'a conflist uses dnsname, but dnsmasq is not installed', fix: 'apt install dnsmasq-base' }];
}

/** A range that overlaps an address the host already has on another interface (docker0, the uplink) makes that network unreachable. */
async function rangeOverlaps(lists: NetConfList[]): Promise<Finding[]> {
  const sock = openHostSocket();
  try {
    const names = new Map((await listLinks(sock)).map((l) => [l.index, l.name]));
    const addresses = (await listAddresses(sock)).map((a) => ({ ...a, link: names.get(a.linkIndex) ?? '?' }));
    return lists.flatMap((l) => {
      // only a bridge network routes its range through this host; macvlan and the like sit on the LAN on purpose
      const bridgePlugin = l.plugins.find((p) => p.type === 'bridge') as { bridge?: string } | undefined;
      if (!bridgePlugin) return [];
      const bridge = bridgePlugin.bridge || 'cni0';
      const ranges = l.plugins.flatMap((p) => {
        const ipam = p.ipam as { ranges?: RangeInput[][]; subnet?: string } | undefined;
        return ipam?.ranges ?? (ipam?.subnet ? [[{ subnet: ipam.subnet }]] : []);
      });
      return ranges.flatMap((set, i) => {
        let subnets: Prefix[];
        try {
          subnets = canonicalizeRangeSet(set, `ranges[${i}]`).map((r) => r.subnet);
        } catch {
          return [];
        }
        return subnets.flatMap((subnet) =>
          addresses
            .filter((a) => a.link !== bridge && a.link !== 'lo' && prefixesOverlap(subnet, { ip: a.ip, length: a.prefixLength }))
            .map((a) => ({
              check: `network ${l.name}`,
              status: 'warn' as const,
              detail: `range ${formatPrefix(subnet)} overlaps ${formatIP(a.ip)}/${a.prefixLength} on ${a.link}`,
              fix: `pick a subnet that no interface of this host uses (ip -br addr)`,
            })),
        );
      });
    });
  } finally {
    sock.socket.close();
  }
}

function goneNamespaces(networks: NetworkView[], fix: string): Finding[] {
  return networks.flatMap((net) =>
    net.attachments
      .filter((a) => a.netnsExists === false)
      .map((a) => ({
        check: `network ${net.name}`,
        status: 'warn' as const,
        detail: `container ${a.containerId} (${a.ifname}) still holds ${[...a.addresses, ...a.ports].join(', ') || 'state'}, but its namespace ${a.netns} is gone`,
        fix,
      })),
  );
}

/** What a record says should be in the kernel and is not: rules or elements flushed away. */
function entriesMissing(places: Places, fix: string): Finding[] {
  const findings: Finding[] = [];
  for (const { name, open } of RECORDED_COMPONENTS) {
    const { attachments, entries, missing, broken } = open({ env: places.env }).audit();
    if (!missing && !broken.length) findings.push(ok(name, `${attachments} container(s), every entry and rule in place`));
    if (missing) findings.push({ check: name, status: 'fail', detail: `${missing} of ${entries} recorded entries are missing from the kernel`, fix });
    for (const b of broken) findings.push({ check: name, status: 'fail', detail: b, fix });
  }
  return findings;
}

/** Elements of the suite's sets and maps that no record holds: left by a crash or by hand. */
function unownedElements(places: Places): Finding[] {
  return RECORDED_COMPONENTS.flatMap(({ name, open }) =>
    open({ env: places.env })
      .strays()
      .map(({ where, key, fix }) => ({ check: name, status: 'warn' as const, detail: `${where} holds { ${key} }, which no container's record holds`, fix })),
  );
}
