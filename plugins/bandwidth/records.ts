import { Errno, NetlinkError } from '../../lib/errors';
import { teardown } from '../../lib/iface/teardown';
import { deleteLink, linkByName, type RtNetlinkSocket } from '../../lib/netlink';
import { deleteQdisc, qdiscAt, TC_H_INGRESS, TC_H_ROOT } from '../../lib/netlink/tc';
import { type AttachmentKey, AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';
import { INGRESS_HANDLE, ifbName, ROOT_HANDLE } from './shaping';

/** What ADD set up for one attachment: the record GC goes by, and what DEL takes back. */
export interface BandwidthRecord {
  /** The host end of the container's veth when ADD ran, and which of its qdiscs ADD added. */
  host: { name: string; index: number; root: boolean; ingress: boolean };
  /** The ifb device ADD created (egress shaping). */
  ifb?: string;
}

export const bandwidthState = (cmd: StateEnv): AttachmentState<BandwidthRecord> => new AttachmentState<BandwidthRecord>(stateRoot(cmd.env), 'bandwidth');

const gone = (err: unknown) => err instanceof NetlinkError && (err.errno === Errno.ENOENT || err.errno === Errno.ENODEV);

/** A step whose object vanishing under it (the container's veth going with its namespace) is success. */
const ignoringGone = async (step: () => Promise<void>) => {
  try {
    await step();
  } catch (err) {
    if (!gone(err)) throw err;
  }
};

/**
 * Removes what an attachment has: its ifb (by the recorded name, else by the reference's name for
 * the attachment, so an ifb the reference plugin made goes too; only a link of kind ifb), and the
 * qdiscs the record says ADD added to the host veth, when that veth is still the same link (name
 * and index). Missing things are success; what cannot be removed is reported after
 * everything was tried, with the first failed step's code.
 */
async function removeShaping(sock: RtNetlinkSocket, key: AttachmentKey, record: BandwidthRecord | undefined): Promise<void> {
  const ifb = record?.ifb ?? ifbName(key.network, key.containerId);
  const host = record?.host;
  await teardown([
    [
      `delete ifb ${JSON.stringify(ifb)}`,
      () =>
        ignoringGone(async () => {
          const link = await linkByName(sock, ifb);
          if (link?.kind === 'ifb') await deleteLink(sock, link.index);
        }),
    ],
    [
      `remove the qdiscs of ${JSON.stringify(host?.name)}`,
      () =>
        ignoringGone(async () => {
          const link = host && (await linkByName(sock, host.name));
          if (!link || link.index !== host.index) return; // none added, gone with the container, or another link by now
          const root = host.root ? await qdiscAt(sock, link.index, TC_H_ROOT) : undefined;
          if (root?.handle === ROOT_HANDLE && (root.kind === 'tbf' || root.kind === 'htb')) await deleteQdisc(sock, root);
          const ingress = host.ingress ? await qdiscAt(sock, link.index, TC_H_INGRESS) : undefined;
          if (ingress?.handle === INGRESS_HANDLE && ingress.kind === 'ingress') await deleteQdisc(sock, ingress);
        }),
    ],
  ]);
}

/** removeShaping by the attachment's record, then the record (kept when something stays, for a later DEL or GC). */
export async function removeAttachment(sock: RtNetlinkSocket, state: AttachmentState<BandwidthRecord>, key: AttachmentKey): Promise<void> {
  await removeShaping(
    sock,
    key,
    state.withLock(() => state.read(key)),
  );
  state.withLock(() => state.remove(key));
}
