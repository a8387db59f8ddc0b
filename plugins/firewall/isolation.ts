import type { NftCommand, SetElement } from '../../lib/nft';
import { addTable, inTable } from '../../lib/nft/table';
import type { IsolationEntry } from './entries';

export const ISOLATION_CHAIN = 'firewall_forward';
const ISOLATED = 'fw_isolated_bridges';
const SELF = 'fw_bridge_self';
const ICC_BLOCKED = 'fw_icc_blocked';

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
    { add: { set: inTable({ name: ISOLATED, type: 'ifname' }) } },
    { add: { set: inTable({ name: SELF, type: ['ifname', 'ifname'] }) } },
    { add: { set: inTable({ name: ICC_BLOCKED, type: ['ifname', 'ifname'] }) } },
    { add: { chain: { ...chain, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } } },
    { flush: { chain } },
    rule([{ match: { op: '==', left: { concat: [iifname, oifname] }, right: `@${ICC_BLOCKED}` } }]),
    rule([
      { match: { op: '==', left: iifname, right: `@${ISOLATED}` } },
      { match: { op: '==', left: oifname, right: `@${ISOLATED}` } },
      { match: { op: '!=', left: { concat: [iifname, oifname] }, right: `@${SELF}` } },
    ]),
    ...entries.flatMap(isolationElements).map((e) => ({ add: { element: inTable({ name: e.set, elem: [e.elem] }) } })),
  ];
}

const rule = (matches: unknown[]): NftCommand => ({ add: { rule: inTable({ chain: ISOLATION_CHAIN, expr: [...matches, { drop: null }] }) } });

const pair = (bridge: string) => ({ concat: [bridge, bridge] });

export function isolationElements(entry: IsolationEntry): SetElement[] {
  const b = entry.bridge;
  if (entry.kind === 'icc') return [{ family: 'inet', kind: 'set', set: ICC_BLOCKED, elem: pair(b), text: `${b} . ${b}` }];
  return [
    { family: 'inet', kind: 'set', set: ISOLATED, elem: b, text: b },
    { family: 'inet', kind: 'set', set: SELF, elem: pair(b), text: `${b} . ${b}` },
  ];
}
