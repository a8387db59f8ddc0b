import { closeSync, openSync } from 'node:fs';
import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import { formatPrefix, parsePrefix, prefixContains } from '../../lib/ip';
import { addAddress, formatAddress, linkByName, listAddresses, setLinkUp, setMac, setMtu, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { linkDetails, listLinkDetails, moveLink, renameLink, setAlias } from '../../lib/netlink/link-details';
import type { DeviceState } from './records';

const LINK_LOCAL_6 = parsePrefix('fe80::/10')!;

/** What DEL must put back: name, alias, MTU, MAC, up or down, and the addresses the move drops. */
export async function deviceState(host: RtNetlinkSocket, device: LinkInfo): Promise<DeviceState> {
  const details = await linkDetails(host, { index: device.index });
  const addresses = (await listAddresses(host, device.index)).filter((a) => !prefixContains(LINK_LOCAL_6, a.ip)).map(formatAddress);
  return { name: device.name, alias: details?.alias, mtu: device.mtu, mac: device.mac, up: device.up, addresses };
}

/** Runs `fn` with an fd of the namespace at `path` (the host's own: /proc/self/ns/net). */
async function withNetnsFd<T>(path: string, fn: (fd: number) => Promise<T>): Promise<T> {
  const fd = openSync(path, 'r');
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}

const HOST_NETNS = '/proc/self/ns/net';

/**
 * Moves the host device into the container as `ifname`, its host name in its alias (as the
 * reference does, so either suite's DEL finds the name), and sets it up there. In one RTM_SETLINK
 * the kernel moves, renames and sets the alias, so the device never carries the container's name
 * on the host. The caller's undo sends it back (see moved) whatever step failed.
 */
export async function moveIn(host: RtNetlinkSocket, ctr: RtNetlinkSocket, device: LinkInfo, netnsPath: string, ifname: string): Promise<LinkInfo> {
  try {
    await withNetnsFd(netnsPath, (fd) => moveLink(host, device, { netnsFd: fd, name: ifname, alias: device.name }));
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === Errno.EINVAL) {
      throw new CniError(ErrorCode.LinkFailure, `cannot move ${JSON.stringify(device.name)} into the container: the kernel does not let this kind of device change namespace`);
    }
    throw err;
  }
  const link = await linkByName(ctr, ifname);
  if (!link) throw new CniError(ErrorCode.LinkFailure, `${JSON.stringify(device.name)} vanished after the move into the container`);
  await setLinkUp(ctr, link, true);
  return (await linkByName(ctr, ifname)) ?? link;
}

/**
 * The device in the container after a move that may have stopped half-way: as `ifname`, or still
 * under its host name when the rename failed after the move (then only with its own MAC, so a
 * container interface that merely shares the name is never taken).
 */
export async function moved(ctr: RtNetlinkSocket, original: DeviceState, ifname: string): Promise<LinkInfo | undefined> {
  const renamed = await linkByName(ctr, ifname);
  if (renamed) return renamed;
  const stranded = await linkByName(ctr, original.name);
  return stranded && stranded.mac === original.mac ? stranded : undefined;
}

/**
 * Sends the container's `link` back to the host under its original name (the record's, else its
 * alias as the reference keeps it) and restores what the record says (alias, MTU, MAC, addresses,
 * up); without a record, the reference's way: alias cleared, left down.
 */
export async function moveOut(ctr: RtNetlinkSocket, host: RtNetlinkSocket, link: LinkInfo, original: DeviceState | undefined): Promise<void> {
  const name = original?.name ?? (await linkDetails(ctr, { index: link.index }))?.alias;
  if (!name) {
    throw new CniError(ErrorCode.LinkFailure, `cannot tell where ${JSON.stringify(link.name)} came from: no record of it and no alias with its host name`);
  }
  if (await linkByName(host, name)) {
    throw new CniError(ErrorCode.LinkFailure, `cannot give ${JSON.stringify(link.name)} back to the host as ${JSON.stringify(name)}: the host has an interface of that name`);
  }
  await withNetnsFd(HOST_NETNS, (fd) => moveLink(ctr, link, { netnsFd: fd, name, alias: original?.alias ?? '' }));
  if (original) await restore(host, original);
}

/**
 * A device the kernel gave back to the host when the container's namespace went (physical devices
 * return to the initial namespace, under their container name or "devN"), found by the alias ADD
 * set, or one a DEL already moved back under its own name: renamed if need be and restored.
 * Virtual devices die with the namespace: then there is nothing to find, and that is success.
 */
export async function recoverReturned(host: RtNetlinkSocket, original: DeviceState): Promise<boolean> {
  const links = await listLinkDetails(host);
  // by name only with the recorded MAC: a device of that name made since is someone else's
  const returned = links.find((l) => l.alias === original.name) ?? links.find((l) => l.name === original.name && (!original.mac || l.mac === original.mac));
  if (!returned) return false;
  if (returned.name !== original.name) {
    if (links.some((l) => l.name === original.name)) {
      throw new CniError(ErrorCode.LinkFailure, `cannot rename ${JSON.stringify(returned.name)} back to ${JSON.stringify(original.name)}: the host has an interface of that name`);
    }
    if (returned.up) await setLinkUp(host, returned, false);
    await renameLink(host, returned, original.name);
  }
  await setAlias(host, { index: returned.index, name: original.name }, original.alias ?? '');
  await restore(host, original);
  return true;
}

/** MTU, MAC and addresses as recorded, then up if it was. */
async function restore(host: RtNetlinkSocket, original: DeviceState): Promise<void> {
  const link = await linkByName(host, original.name);
  if (!link) throw new CniError(ErrorCode.LinkFailure, `${JSON.stringify(original.name)} vanished on its way back to the host`);
  if (original.mtu !== undefined && link.mtu !== original.mtu) await setMtu(host, link, original.mtu);
  if (original.mac && link.mac !== original.mac) await setMac(host, link, original.mac);
  const present = new Set((await listAddresses(host, link.index)).map(formatAddress));
  for (const text of original.addresses) {
    const prefix = parsePrefix(text);
    if (!prefix || present.has(formatPrefix(prefix))) continue;
    try {
      await addAddress(host, link.index, prefix.ip, prefix.length);
    } catch (err) {
      if (!(err instanceof NetlinkError && err.errno === Errno.EEXIST)) throw err;
    }
  }
  if (original.up && !link.up) await setLinkUp(host, link, true);
}
