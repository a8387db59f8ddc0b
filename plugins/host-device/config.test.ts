import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readdirIfExists } from '../../lib/fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cmdArgs, errorOf } from '../../test/helpers/cmd-args';
import { normaliseMac, parseConfig } from './config';
import { isDpdkDevice, resolveDeviceID, sysfsDeviceName } from './device';

const parse = (extra: Record<string, unknown>) => parseConfig(cmdArgs({ type: 'host-device', ...extra }));

describe('host-device parseConfig', () => {
  it('takes each way of naming the device, IPAM optional', () => {
    expect(parse({ device: 'eth1' })).toMatchObject({ selector: { device: 'eth1' }, ipamType: undefined });
    expect(parse({ hwaddr: '0A-0B-0C-0D-0E-0F', ipam: { type: 'static' } })).toMatchObject({ selector: { hwaddr: '0a:0b:0c:0d:0e:0f' }, ipamType: 'static' });
    expect(parse({ kernelpath: '/sys/devices/pci0000:00/0000:00:05.0' }).selector).toEqual({ kernelpath: '/sys/devices/pci0000:00/0000:00:05.0' });
    expect(parse({ pciBusID: '0000:00:05.0' }).selector).toEqual({ pciBusID: '0000:00:05.0' });
    expect(parse({ runtimeConfig: { deviceID: '0000:00:06.0' } }).selector).toEqual({ deviceID: '0000:00:06.0' });
  });

  it("normalises Go's MAC forms", () => {
    expect(normaliseMac('AA:BB:CC:DD:EE:FF')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normaliseMac('aabb.ccdd.eeff')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normaliseMac('aa:bb-cc:dd:ee:ff')).toBeUndefined();
  });

  it('refuses a config that names no device, and bad values naming the field (code 7)', () => {
    expect(errorOf(() => parse({}))).toMatchObject({ code: 7, msg: expect.stringContaining('"device", "hwaddr", "kernelpath" or "pciBusID"') });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ device: 'a/b' }, 'invalid field "device"'],
      [{ hwaddr: 'aa:bb' }, 'invalid field "hwaddr"'],
      [{ kernelpath: 'devices/x' }, 'invalid field "kernelpath"'],
      [{ kernelpath: '/sys/devices/../class/net/eth0' }, 'invalid field "kernelpath"'],
      [{ pciBusID: '../../x' }, 'invalid field "pciBusID"'],
      [{ device: 7 }, 'field "device": expected string'],
    ];
    for (const [extra, message] of cases) {
      const err = errorOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });
});

describe('host-device device selection through sysfs (a fake tree)', () => {
  let sys: string;
  afterEach(() => rmSync(sys, { recursive: true, force: true }));
  const tree = () => {
    sys = mkdtempSync(join(tmpdir(), 'cnit-sysfs-'));
    const dir = (...p: string[]) => mkdirSync(join(sys, ...p), { recursive: true });
    dir('devices', 'pci0000:00', '0000:00:05.0', 'net', 'enp0s5');
    dir('devices', 'pci0000:00', '0000:00:06.0', 'virtio3', 'net', 'eth7');
    dir('devices', 'pci0000:00', '0000:00:07.0');
    dir('devices', 'aux', 'mlx5_core.sf.2', 'net', 'enp8s0f0s2');
    dir('bus', 'pci', 'devices');
    dir('bus', 'auxiliary', 'devices');
    dir('bus', 'pci', 'drivers', 'vfio-pci');
    dir('bus', 'pci', 'drivers', 'virtio-pci');
    for (const id of ['0000:00:05.0', '0000:00:06.0', '0000:00:07.0']) symlinkSync(`../../../devices/pci0000:00/${id}`, join(sys, 'bus', 'pci', 'devices', id));
    symlinkSync('../../../devices/aux/mlx5_core.sf.2', join(sys, 'bus', 'auxiliary', 'devices', 'mlx5_core.sf.2'));
    symlinkSync('../../../bus/pci/drivers/virtio-pci', join(sys, 'devices', 'pci0000:00', '0000:00:06.0', 'driver'));
    symlinkSync('../../../bus/pci/drivers/vfio-pci', join(sys, 'devices', 'pci0000:00', '0000:00:07.0', 'driver'));
  };

  it('finds the interface of a kernel path, a PCI address (or its virtio child) and an auxiliary device', () => {
    tree();
    expect(sysfsDeviceName({ kernelpath: '/sys/devices/pci0000:00/0000:00:05.0' }, sys)).toBe('enp0s5');
    expect(sysfsDeviceName({ pciBusID: '0000:00:05.0' }, sys)).toBe('enp0s5');
    expect(sysfsDeviceName({ pciBusID: '0000:00:06.0' }, sys)).toBe('eth7');
    expect(sysfsDeviceName({ deviceID: 'mlx5_core.sf.2', pciBusID: '0000:00:05.0' }, sys)).toBe('enp8s0f0s2');
    expect(sysfsDeviceName({ device: 'eth0' }, sys)).toBeUndefined();
  });

  it('lets runtimeConfig.deviceID replace pciBusID, and refuses one that is neither PCI nor auxiliary', () => {
    tree();
    expect(resolveDeviceID({ pciBusID: '0000:00:05.0', deviceID: '0000:00:06.0' }, sys)).toEqual({ pciBusID: '0000:00:06.0' });
    expect(resolveDeviceID({ deviceID: 'mlx5_core.sf.2' }, sys)).toEqual({ auxDevice: 'mlx5_core.sf.2' });
    expect(errorOf(() => resolveDeviceID({ deviceID: 'nope' }, sys))).toMatchObject({ code: 7, msg: expect.stringContaining('runtimeConfig.deviceID') });
  });

  it('tells a device bound to a user-space driver (DPDK) and names a PCI device without a net directory', () => {
    tree();
    expect(isDpdkDevice('0000:00:07.0', sys)).toBe(true);
    expect(isDpdkDevice('0000:00:06.0', sys)).toBe(false);
    expect(errorOf(() => isDpdkDevice('0000:00:09.0', sys))?.code).toBe(7);
    expect(errorOf(() => sysfsDeviceName({ pciBusID: '0000:00:07.0' }, sys))).toMatchObject({ code: 110, msg: expect.stringContaining('no net directory') });
  });
});

/** A network device of this machine with a PCI parent (read only: nothing is changed). */
function realPciNic(): { name: string; pci: string; kernelpath: string } | undefined {
  for (const name of readdirIfExists('/sys/class/net')) {
    let path: string;
    try {
      path = realpathSync(join('/sys/class/net', name));
    } catch {
      continue;
    }
    // /sys/devices/pci0000:00/0000:00:03.0[/virtio2]/net/eth0
    const m = /^(\/sys\/devices\/pci[^/]+\/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])(?:\/virtio\d+)?)\/net\/[^/]+$/.exec(path);
    if (m) return { name, pci: m[2], kernelpath: dirname(dirname(path)) };
  }
  return undefined;
}

describe.runIf(realPciNic())("host-device device selection on this machine's sysfs (read only)", () => {
  it('names the interface of its PCI address (through the virtio child when there is one) and of its kernel path', () => {
    const nic = realPciNic()!;
    expect(sysfsDeviceName({ pciBusID: nic.pci })).toBe(nic.name);
    expect(sysfsDeviceName({ kernelpath: nic.kernelpath })).toBe(nic.name);
    expect(resolveDeviceID({ deviceID: nic.pci })).toEqual({ pciBusID: nic.pci });
  });
});
