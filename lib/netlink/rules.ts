import { formatIP, type Prefix } from '../ip';
import { bytesToIP, familyConstant, ipToBytes } from './addresses';
import { FlagsNew, type RtNetlinkSocket } from './package';
import { call } from './socket';

/** A policy routing rule `from <src> lookup <table>` (as `ip rule`), the kind source-based routing adds. */
export interface SourceRule {
  src: Prefix;
  table: number;
}

export interface RuleInfo {
  family: 4 | 6;
  src?: Prefix;
  table: number;
  priority?: number;
}

const describe = (r: SourceRule) => `from ${formatIP(r.src.ip)}/${r.src.length} lookup ${r.table}`;
const ruleData = (r: SourceRule) => ({ family: familyConstant(r.src.ip), srcLen: r.src.length, table: r.table < 256 ? r.table : 252, action: 'toTbl' as const });
const ruleAttrs = (r: SourceRule) => ({ src: ipToBytes(r.src.ip), table: r.table });

/** Adds the rule; the kernel gives it the next priority below the last one added (as `ip rule add` without `pref`). EEXIST when it is there. */
export async function addRule(sock: RtNetlinkSocket, rule: SourceRule): Promise<void> {
  await call(`add rule ${describe(rule)}`, () => sock.newRule(ruleData(rule), ruleAttrs(rule), { flags: FlagsNew.CREATE | FlagsNew.EXCL }));
}

/** Deletes the rule; ENOENT when there is none. */
export async function deleteRule(sock: RtNetlinkSocket, rule: SourceRule): Promise<void> {
  await call(`delete rule ${describe(rule)}`, () => sock.delRule(ruleData(rule), ruleAttrs(rule)));
}

/** Every rule of one family, or of both in one dump. */
export async function listRules(sock: RtNetlinkSocket, family: 4 | 6 | 'both'): Promise<RuleInfo[]> {
  const messages = await call('list rules', () => sock.getRules({ family: { 4: 2, 6: 10, both: 0 }[family] }));
  return messages.map((m) => ({
    family: m.data.family === 10 ? 6 : 4,
    src: m.attrs.src ? { ip: bytesToIP(m.attrs.src), length: m.data.srcLen ?? 0 } : undefined,
    table: m.attrs.table ?? m.data.table ?? 0,
    priority: m.attrs.priority,
  }));
}
