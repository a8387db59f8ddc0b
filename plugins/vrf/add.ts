import { withContainerLink } from '../../lib/iface/container-link';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { parseConfig } from './config';
import { enslave, ensureVrf } from './device';
import { attachmentKey, vrfState } from './records';

/** Puts the interface in the config's VRF (made when missing) and passes prevResult through; a failure undoes every step. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'vrf');
  const state = vrfState(cmd);
  await withContainerLink(cmd, (sock, iface) =>
    new UndoStack().run(async (undo) => {
      const vrf = await ensureVrf(sock, conf, undo);
      await enslave(sock, vrf, iface, undo);
      state.withLock(() => state.write(attachmentKey(cmd), { netns: cmd.netns, vrf: vrf.name, table: vrf.table }));
    }),
  );
  return prev;
}
