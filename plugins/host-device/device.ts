import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CniError, ErrorCode, isNodeErrorCode } from '../../lib/errors';
import { linkByName, listLinks, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import type { DeviceSelector } from './config';

/** Drivers that hand a PCI device to user space (DPDK): such a device has no kernel interface to move. */
const USERSPACE_DRIVERS = ['vfio-pci', 'uio_pci_generic', 'igb_uio'];

const notFound = (what: string) => new CniError(ErrorCode.LinkFailure, `cannot find the host device: ${what}`);

const exists = (path: string) => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** sysfs under `sys` (tests give a fake tree); `/sys/...` paths of the config are read below it. */
const under = (sys: string, path: string) => join(sys, path.replace(/^\/sys(\/|$)/, '/'));

/**
 * runtimeConfig.deviceID as the reference's handleDeviceID reads it: a PCI device (it replaces
 * pciBusID) or an auxiliary device; anything else is refused.
 */
export function resolveDeviceID(selector: DeviceSelector, sys = '/sys'): { pciBusID?: string; auxDevice?: string } {
  const id = selector.deviceID;
  if (!id) return { pciBusID: selector.pciBusID };
  if (exists(join(sys, 'bus', 'pci', 'devices', id))) return { pciBusID: id };
  if (exists(join(sys, 'bus', 'auxiliary', 'devices', id))) return { auxDevice: id };
  throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid field "runtimeConfig.deviceID": ${JSON.stringify(id)} is neither a PCI nor an auxiliary device`);
}

/** True when the PCI device is bound to a user-space driver (DPDK mode: nothing to move or address). */
export function isDpdkDevice(pciBusID: string, sys = '/sys'): boolean {
  const driver = join(sys, 'bus', 'pci', 'devices', pciBusID, 'driver');
  let target: string;
  try {
    target = readlinkSync(driver);
  } catch (err) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid field "pciBusID": cannot read the driver of PCI device ${JSON.stringify(pciBusID)}: ${(err as Error).message}`);
  }
  return USERSPACE_DRIVERS.includes(basename(resolve(join(driver, '..'), target)));
}

/** The first network interface listed in a sysfs `net` directory (sorted, as Go's ReadDir). */
function firstNetDevice(dir: string): string {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    if (isNodeErrorCode(err, 'ENOENT') || isNodeErrorCode(err, 'ENOTDIR')) throw notFound(`${JSON.stringify(dir)} does not exist`);
    throw err;
  }
  if (!entries.length) throw notFound(`no network device in ${JSON.stringify(dir)}`);
  return entries[0];
}

/**
 * The interface name sysfs gives for a kernel path, a PCI address (its net/ directory, or a
 * virtio child's) or an auxiliary device; undefined when the selector names the device otherwise.
 */
export function sysfsDeviceName(selector: DeviceSelector, sys = '/sys'): string | undefined {
  if (selector.kernelpath) return firstNetDevice(join(under(sys, selector.kernelpath), 'net'));
  const { pciBusID, auxDevice } = resolveDeviceID(selector, sys);
  if (pciBusID) {
    const pci = join(sys, 'bus', 'pci', 'devices', pciBusID);
    if (exists(join(pci, 'net'))) return firstNetDevice(join(pci, 'net'));
    const virtio = (exists(pci) ? readdirSync(pci).sort() : []).find((e) => e.startsWith('virtio') && exists(join(pci, e, 'net')));
    if (!virtio) throw notFound(`no net directory under PCI device ${JSON.stringify(pciBusID)}`);
    return firstNetDevice(join(pci, virtio, 'net'));
  }
  if (auxDevice) return firstNetDevice(join(sys, 'bus', 'auxiliary', 'devices', auxDevice, 'net'));
  return undefined;
}

/** The host interface the selector names, in the reference's order: device, hwaddr, kernelpath, pciBusID, auxiliary device. */
export async function findHostDevice(host: RtNetlinkSocket, selector: DeviceSelector, sys = '/sys'): Promise<LinkInfo> {
  if (selector.device) {
    const link = await linkByName(host, selector.device);
    if (!link) throw notFound(`no interface ${JSON.stringify(selector.device)} in the host namespace`);
    return link;
  }
  if (selector.hwaddr) {
    const link = (await listLinks(host)).find((l) => l.mac === selector.hwaddr);
    if (!link) throw notFound(`no interface with MAC ${selector.hwaddr} in the host namespace`);
    return link;
  }
  const name = sysfsDeviceName(selector, sys)!;
  const link = await linkByName(host, name);
  if (!link) throw notFound(`sysfs names ${JSON.stringify(name)}, which is not in the host namespace`);
  return link;
}
