import { NftSet, type NftCommand, type SetElement } from '../../lib/nft';
import { addTable, inTable } from '../../lib/nft/table';
import type { IsolationEntry } from './entries';

export const ISOLATION_CHAIN = 'firewall_forward';
const ISOLATED = new NftSet({ family: 'inet', kind: 'set', name: 'fw_isolated_bridges' });
const SELF = new NftSet({ family: 'inet', kind: 'set', name: 'fw_bridge_self' });
const ICC_BLOCKED = new NftSet({ family: 'inet', kind: 'set', name: 'fw_icc_blocked' });

const iifname = { meta: { key: 'iifname' } };
const oifname = { meta: { key: 'oifname' } };

/**
 * The reference's CNI-ISOLATION-STAGE-1/2 chains as two rules and three sets in the suite's
 * table, whatever the number of bridges: forwarding between two different isolated bridges is
 * dropped, and so is forwarding within a bridge under "isolated". A drop in any table is final,
 * so these hold even where another table accepts.
 */
export function isolationTransaction(entries: IsolationEntry[]): NftCommand[] {
  const chain = inTable({ name: ISOLATION_CHAIN });
  return [
    addTable(),
    { add: { set: inTable({ name: ISOLATED.name, type: 'ifname' }) } },
    { add: { set: inTable({ name: SELF.name, type: ['ifname', 'ifname'] }) } },
    { add: { set: inTable({ name: ICC_BLOCKED.name, type: ['ifname', 'ifname'] }) } },
    { add: { chain: { ...chain, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } } },
    { flush: { chain } },
    rule([{ match: { op: '==', left: { concat: [iifname, oifname] }, right: `@${ICC_BLOCKED.name}` } }]),
    rule([
      { match: { op: '==', left: iifname, right: `@${ISOLATED.name}` } },
      { match: { op: '==', left: oifname, right: `@${ISOLATED.name}` } },
      { match: { op: '!=', left: { concat: [iifname, oifname] }, right: `@${SELF.name}` } },
    ]),
    ...entries.flatMap(isolationElements).map((e) => e.addCommand()),
  ];
}

const rule = (matches: unknown[]): NftCommand => ({ add: { rule: inTable({ chain: ISOLATION_CHAIN, expr: [...matches, { drop: null }] }) } });

export function isolationElements(entry: IsolationEntry): SetElement[] {
  const b = entry.bridge;
  if (entry.kind === 'icc') return [ICC_BLOCKED.element([b, b])];
  return [ISOLATED.element([b]), SELF.element([b, b])];
}
