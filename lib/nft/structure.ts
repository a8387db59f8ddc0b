import { existsSync } from 'node:fs';
import { NftError } from '../errors';
import type { NftCommand, NftRunner } from './runner';
import { TABLE } from './table';

/** A chain of the suite's tables (inet cni_ts, or bridge cni_ts for MAC spoof checks). */
export interface ChainRef {
  family: 'inet' | 'bridge';
  name: string;
}

/** The fixed part a component installs with every ADD (sets, maps, chains and rules; elements are ignored). */
export interface Structure {
  commands?: NftCommand[];
  script?: string[];
  /** The chains an attachment's traffic depends on. */
  chains: ChainRef[];
}

/**
 * The chains of `structure` that are missing from the suite's table or whose rules (hook,
 * priority, policy, every rule) differ from what the component installs, e.g. after `nft flush
 * chain`. The expectation is not written down here: the structure is installed into a dormant
 * scratch table (its base chains take no packets), listed by the same nftables, compared as text
 * and deleted, so the check holds for any nftables release. Returns "inet portmap_dnat is missing" …
 */
export function brokenChains(nft: NftRunner, structure: Structure): string[] {
  const families = [...new Set(structure.chains.map((c) => c.family))];
  return withScratchTable(nft, families, (scratch) => {
    installInScratch(nft, structure, scratch);
    return structure.chains.flatMap((chain) => {
      const actual = chainBody(nft, chain.family, TABLE.name, chain.name);
      if (actual === undefined) return [`chain ${chain.family} ${TABLE.name} ${chain.name} is missing`];
      return actual === chainBody(nft, chain.family, scratch, chain.name) ? [] : [`chain ${chain.family} ${TABLE.name} ${chain.name} does not hold the rules it should`];
    });
  });
}

/**
 * The expressions nftables makes of `rule` (one rule in nft's text syntax, for a chain of the
 * inet family), as its JSON listing shows them: for input a plugin writes into its rules
 * (portmap's conditions), to see what it really is before ADD changes anything. The rule goes into
 * a dormant scratch table, so nothing takes effect; what nftables refuses throws NftError.
 */
export function ruleExpressions(nft: NftRunner, rule: string): Array<Record<string, unknown>> {
  return withScratchTable(nft, ['inet'], (scratch) => {
    nft.run(`add chain inet ${scratch} probe\nadd rule inet ${scratch} probe ${rule}`);
    const listed = nft.list(`list chain inet ${scratch} probe`).find((o) => typeof o === 'object' && o !== null && 'rule' in o) as
      | { rule: { expr: Array<Record<string, unknown>> } }
      | undefined;
    return listed?.rule.expr ?? [];
  });
}

function installInScratch(nft: NftRunner, structure: Structure, scratch: string): void {
  if (structure.script?.length) nft.run(rewriteScript(structure.script, scratch));
  if (structure.commands?.length) nft.apply(rewriteCommands(structure.commands, scratch));
}

/** Runs `use` with a dormant table of this process's own in each family (its base chains take no packets), deleted after. */
function withScratchTable<T>(nft: NftRunner, families: string[], use: (scratch: string) => T): T {
  const scratch = `${TABLE.name}_check_${process.pid}`;
  dropOrphanedScratches(nft);
  try {
    nft.run(families.map((f) => `add table ${f} ${scratch} { flags dormant ; }`).join('\n'));
    return use(scratch);
  } finally {
    dropScratch(nft, families, scratch);
  }
}

/** Scratch tables of CHECKs that were killed before they could delete theirs (their pid is gone). */
function dropOrphanedScratches(nft: NftRunner): void {
  const pattern = new RegExp(`^table (inet|bridge) (${TABLE.name}_check_(\\d+))$`);
  for (const line of nft.listText('list tables').split('\n')) {
    const m = pattern.exec(line.trim());
    if (m && !existsSync(`/proc/${m[3]}`)) dropScratch(nft, [m[1]], m[2]);
  }
}

function dropScratch(nft: NftRunner, families: string[], scratch: string): void {
  for (const f of families) {
    try {
      nft.run(`delete table ${f} ${scratch}`);
    } catch (err) {
      if (!(err instanceof NftError)) throw err;
    }
  }
}

/** The chain's listing without its first line (the table's name), or undefined when it is missing. */
function chainBody(nft: NftRunner, family: string, table: string, chain: string): string | undefined {
  try {
    return nft.listText(`list chain ${family} ${table} ${chain}`).split('\n').slice(1).join('\n');
  } catch (err) {
    if (err instanceof NftError) return undefined;
    throw err;
  }
}

const TABLE_WORD = new RegExp(`\\b(inet|bridge) ${TABLE.name}\\b`, 'g');

/** The script against `scratch`, without table declarations (they would wake the dormant table) or elements. */
function rewriteScript(script: string[], scratch: string): string {
  return script
    .filter((line) => !/^add (table|element) /.test(line))
    .map((line) => line.replace(TABLE_WORD, `$1 ${scratch}`))
    .join('\n');
}

function rewriteCommands(commands: NftCommand[], scratch: string): NftCommand[] {
  return commands.flatMap((command) => {
    const [verb, body] = Object.entries(command)[0] as [string, Record<string, Record<string, unknown>>];
    const [kind, object] = Object.entries(body)[0];
    if (kind === 'table' || kind === 'element') return [];
    return [{ [verb]: { [kind]: object.table === TABLE.name ? { ...object, table: scratch } : object } }];
  });
}
