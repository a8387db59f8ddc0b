import { withContainerLink } from '../../lib/iface/container-link';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { parseConfig } from './config';
import { attachmentKey, netnsLock, sbrState } from './records';
import { addRulesOnly, interfaceAddresses, noAddress, routeBySource } from './routing';

/** Routes the interface's traffic by source (see routeBySource) and passes prevResult through; a failure undoes every step. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'sbr');
  const addresses = interfaceAddresses(prev, cmd.ifname);
  if (!addresses.length) throw noAddress(cmd.ifname);
  const state = sbrState(cmd);
  const lock = netnsLock(cmd, cmd.netns);
  lock.acquire();
  try {
    await withContainerLink(cmd, (sock, link) =>
      new UndoStack().run(async (undo) => {
        const done = conf.table !== undefined ? await addRulesOnly(sock, conf.table, addresses, undo) : await routeBySource(sock, link, conf, addresses, undo);
        state.withLock(() => state.write(attachmentKey(cmd), { netns: cmd.netns, ...done }));
      }),
    );
  } finally {
    lock.release();
  }
  return prev;
}
