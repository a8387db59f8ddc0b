import { CniError, ErrorCode } from '../../lib/errors';
import { type IP, parsePrefix, prefixContains } from '../../lib/ip';
import { addAddress, addRoute, deleteLink, linkByName, listAddresses, listLinks, listRoutes, setLinkUp, setMaster, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { createLink } from '../../lib/netlink/create-link';
import { linkDetails, listLinkDetails } from '../../lib/netlink/link-details';
import { vrfInfoData, vrfTableOf } from '../../lib/netlink/vrf';
import type { UndoStack } from '../../lib/undo';
import type { VrfConfig } from './config';

const LINK_LOCAL6 = parsePrefix('fe80::/10')!;

export interface Vrf {
  index: number;
  name: string;
  table: number;
}

/** The VRF called `name`; undefined when no link has that name; an error when one that is not a VRF has it. */
export async function findVrf(sock: RtNetlinkSocket, name: string): Promise<Vrf | undefined> {
  const link = await linkDetails(sock, { name });
  if (!link) return undefined;
  if (link.kind !== 'vrf')
    throw new CniError(ErrorCode.LinkFailure, `cannot use ${JSON.stringify(name)} as the VRF: an interface of that name exists and is not a VRF (${link.kind ?? 'a device'})`);
  return { index: link.index, name, table: vrfTableOf(link.infoData) ?? 0 };
}

/** The config's VRF, made (and up) when missing: its table the config's, or the first from 1 that no other VRF of the container uses. */
export async function ensureVrf(sock: RtNetlinkSocket, conf: VrfConfig, undo: UndoStack): Promise<Vrf> {
  const existing = await findVrf(sock, conf.vrfname);
  if (existing) {
    if (conf.table !== undefined && conf.table !== existing.table) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `invalid field "table": VRF ${JSON.stringify(conf.vrfname)} exists with routing table ${existing.table}, not ${conf.table}`,
      );
    }
    return existing;
  }
  const used = new Set((await listLinkDetails(sock)).filter((l) => l.kind === 'vrf').map((l) => vrfTableOf(l.infoData)));
  let table = conf.table ?? 1;
  while (conf.table === undefined && used.has(table)) table++;
  await createLink(sock, { name: conf.vrfname, kind: 'vrf', infoData: vrfInfoData(table) });
  const link = (await linkByName(sock, conf.vrfname))!;
  undo.push(`VRF ${conf.vrfname}`, () => deleteLink(sock, link.index));
  await setLinkUp(sock, link, true);
  return { index: link.index, name: conf.vrfname, table };
}

/**
 * Enslaves the interface to the VRF, as the reference: its global IPv6 addresses, which the kernel
 * drops on the way, are added again, and its routes (of universe scope) are copied into the VRF's table.
 */
export async function enslave(sock: RtNetlinkSocket, vrf: Vrf, iface: LinkInfo, undo: UndoStack): Promise<void> {
  if (iface.masterIndex) {
    const master = (await listLinks(sock)).find((l) => l.index === iface.masterIndex);
    throw new CniError(ErrorCode.LinkFailure, `interface ${JSON.stringify(iface.name)} already has a master: ${master?.name ?? `#${iface.masterIndex}`}`);
  }
  const global6 = (await listAddresses(sock, iface.index)).filter((a) => a.ip.family === 6 && !prefixContains(LINK_LOCAL6, a.ip));
  const routes = (await listRoutes(sock, 'both')).filter((r) => r.linkIndex === iface.index && r.scope === 0);
  await setMaster(sock, iface, vrf.index);
  // joining and leaving both cycle the link, which drops its gateway routes and global IPv6 addresses
  undo.push(`${iface.name} in VRF ${vrf.name}`, async () => {
    await setMaster(sock, iface, 0);
    const left = new Set((await listAddresses(sock, iface.index)).map((a) => key(a.ip, a.prefixLength)));
    for (const a of global6) if (!left.has(key(a.ip, a.prefixLength))) await addAddress(sock, iface.index, a.ip, a.prefixLength, true);
    for (const r of routes) await addRoute(sock, { ...r, linkIndex: iface.index, replace: true });
  });
  const kept = new Set((await listAddresses(sock, iface.index)).map((a) => key(a.ip, a.prefixLength)));
  for (const a of global6) if (!kept.has(key(a.ip, a.prefixLength))) await addAddress(sock, iface.index, a.ip, a.prefixLength, true);
  for (const r of routes) await addRoute(sock, { ...r, linkIndex: iface.index, table: vrf.table, replace: true });
}

const key = (ip: IP, length: number) => `${ip.family} ${ip.value} ${length}`;

/** The interface out of the VRF (when it is in it), and the VRF gone when no interface is left in it. */
export async function leave(sock: RtNetlinkSocket, vrfName: string, ifname: string): Promise<void> {
  // a link of that name that is not a VRF is not ours to leave
  const vrf = await findVrf(sock, vrfName).catch((err) => {
    if (err instanceof CniError) return undefined;
    throw err;
  });
  if (!vrf) return;
  const iface = await linkByName(sock, ifname);
  if (iface?.masterIndex === vrf.index) await setMaster(sock, iface, 0);
  if (!(await listLinks(sock)).some((l) => l.masterIndex === vrf.index)) await deleteLink(sock, vrf.index);
}
