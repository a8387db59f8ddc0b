import * as z from 'zod/mini';
import { CniError, ErrorCode, invalidField as invalid } from '../../lib/errors';
import type { CmdArgs } from '../../lib/skel';
import { validateInterfaceName } from '../../lib/skel/validate';
import { NetConf, parseWith, type DNS } from '../../lib/types';

const opt = z.optional;

const HostDeviceConf = z.extend(NetConf, {
  device: opt(z.string()),
  hwaddr: opt(z.string()),
  kernelpath: opt(z.string()),
  pciBusID: opt(z.string()),
  runtimeConfig: opt(z.looseObject({ deviceID: opt(z.string()) })),
});

/** How the device is found, in the reference's order of precedence: device, hwaddr, kernelpath, pciBusID, then an auxiliary device. */
export interface DeviceSelector {
  device?: string;
  /** Lower case, colon separated. */
  hwaddr?: string;
  kernelpath?: string;
  pciBusID?: string;
  /** runtimeConfig.deviceID when it names a PCI device: the PCI address (overrides pciBusID), or an auxiliary device. */
  deviceID?: string;
}

export interface HostDeviceConfig {
  cniVersion: string;
  networkName: string;
  selector: DeviceSelector;
  /** undefined: the device is moved in and set up without addresses. */
  ipamType?: string;
  dns?: DNS;
}

/** Go's net.ParseMAC forms for 6-byte addresses: aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff. */
export function normaliseMac(text: string): string | undefined {
  const hex = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(text);
  if (hex) return [1, 3, 4, 5, 6, 7].map((i) => hex[i].toLowerCase()).join(':');
  const dotted = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i.exec(text);
  if (dotted) return (dotted[1] + dotted[2] + dotted[3]).toLowerCase().match(/../g)!.join(':');
  return undefined;
}

/** A single path component of sysfs (no "/", not "." or ".."). */
const isSysfsName = (name: string) => name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');

export function parseConfig(cmd: CmdArgs): HostDeviceConfig {
  const conf = parseWith(HostDeviceConf, cmd.config, 'host-device config');
  const selector: DeviceSelector = {};
  if (conf.device) {
    try {
      validateInterfaceName(conf.device);
    } catch {
      throw invalid('device', `${JSON.stringify(conf.device)} is not a valid interface name`);
    }
    selector.device = conf.device;
  }
  if (conf.hwaddr) {
    selector.hwaddr = normaliseMac(conf.hwaddr);
    if (!selector.hwaddr) throw invalid('hwaddr', `${JSON.stringify(conf.hwaddr)} is not a MAC address like "c2:11:22:33:44:55"`);
  }
  if (conf.kernelpath) {
    if (!conf.kernelpath.startsWith('/sys/devices/') || conf.kernelpath.split('/').includes('..')) {
      throw invalid('kernelpath', `${JSON.stringify(conf.kernelpath)} must be an absolute path under /sys/devices/`);
    }
    selector.kernelpath = conf.kernelpath;
  }
  if (conf.pciBusID) {
    if (!isSysfsName(conf.pciBusID)) throw invalid('pciBusID', `${JSON.stringify(conf.pciBusID)} is not a PCI address like "0000:00:05.0"`);
    selector.pciBusID = conf.pciBusID;
  }
  const deviceID = conf.runtimeConfig?.deviceID;
  if (deviceID) {
    if (!isSysfsName(deviceID)) throw invalid('runtimeConfig.deviceID', `${JSON.stringify(deviceID)} is not a PCI or auxiliary device name`);
    selector.deviceID = deviceID;
  }
  if (!selector.device && !selector.hwaddr && !selector.kernelpath && !selector.pciBusID && !selector.deviceID) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, 'host-device needs the device to move: set "device", "hwaddr", "kernelpath" or "pciBusID"');
  }
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    selector,
    ipamType: conf.ipam?.type || undefined,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}
