import { Errno, NetlinkError } from '../../lib/errors';
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

/**
 * Removes what an attachment has: its ifb (by the recorded name, else by the reference's name for
 * the attachment, so an ifb the reference plugin made goes too; only a link of kind ifb), and the
 * qdiscs the record says ADD added to the host veth, when that veth is still the same link (name
 * and index). Missing things are success; returns the failures, having tried everything.
 */
export async function teardown(sock: RtNetlinkSocket, key: AttachmentKey, record: BandwidthRecord | undefined): Promise<string[]> {
  const failures: string[] = [];
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (err) {
      if (!gone(err)) failures.push(`${what}: ${(err as Error).message}`);
    }
  };
  const ifb = record?.ifb ?? ifbName(key.network, key.containerId);
  await attempt(`delete ifb ${JSON.stringify(ifb)}`, async () => {
    const link = await linkByName(sock, ifb);
    if (link?.kind === 'ifb') await deleteLink(sock, link.index);
  });
  const host = record?.host;
  if (host && (host.root || host.ingress)) {
    await attempt(`remove the qdiscs of ${JSON.stringify(host.name)}`, async () => {
      const link = await linkByName(sock, host.name);
      if (link?.index !== host.index) return; // gone with the container, or another link by now
      const root = host.root ? await qdiscAt(sock, link.index, TC_H_ROOT) : undefined;
      if (root?.handle === ROOT_HANDLE && (root.kind === 'tbf' || root.kind === 'htb')) await deleteQdisc(sock, root);
      const ingress = host.ingress ? await qdiscAt(sock, link.index, TC_H_INGRESS) : undefined;
      if (ingress?.handle === INGRESS_HANDLE && ingress.kind === 'ingress') await deleteQdisc(sock, ingress);
    });
  }
  return failures;
}
