import { listAddresses, withLinkIn } from '../../lib/netlink';
import { netnsExists } from '../../lib/netns';
import type { DelArgs } from '../../lib/skel';
import { goField } from '../../lib/types';
import { attachmentKey, sbrState, type SbrRecord } from './records';
import { removeRecorded, rulesFromAddresses } from './routing';

/**
 * Removes the rules and table routes ADD recorded, then the record; without a record, the rules
 * whose source is an address of the interface (into `table` if the config has one), as the
 * reference does. A namespace that is gone took them with it. Idempotent.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const state = sbrState(cmd);
  const key = attachmentKey(cmd);
  const record = state.withLock(() => state.readRecord(key)).data;
  const netns = record?.netns || cmd.netns;
  if (netns && netnsExists(netns)) await removeIn(netns, cmd.ifname, record, lenientTable(cmd));
  state.withLock(() => state.remove(key));
}

export function removeIn(netns: string, ifname: string, record: SbrRecord | undefined, table?: number): Promise<void> {
  return withLinkIn(netns, ifname, async (sock, link) => {
    const recorded = record ?? {
      rules: link
        ? await rulesFromAddresses(
            sock,
            (await listAddresses(sock, link.index)).map((a) => a.ip),
            table,
          )
        : [],
      routes: [],
    };
    await removeRecorded(sock, link, recorded);
  });
}

const lenientTable = (cmd: DelArgs): number | undefined => {
  const table = goField(cmd.config, 'table');
  return typeof table === 'number' ? table : undefined;
};
