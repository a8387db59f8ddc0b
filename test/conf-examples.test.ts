import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig as parseHostLocal } from '../ipam/host-local/config';
import { parseConfig as parseStatic } from '../ipam/static/config';
import { parseConfig as parseDhcp } from '../ipam/dhcp/config';
import { PLUGINS } from '../scripts/plugins.mjs';
import type { CmdArgs } from '../lib/skel';
import { cmdArgs } from './helpers/cmd-args';
import { parseConfig as parseBridge } from '../plugins/bridge/config';
import { parseConfig as parsePtp } from '../plugins/ptp/config';
import { parseConfig as parsePortmap } from '../plugins/portmap/config';
import { parseConfig as parseFirewall } from '../plugins/firewall/config';
import { parseConfig as parseTuning } from '../plugins/tuning/config';
import { parseConfig as parseBandwidth } from '../plugins/bandwidth/config';
import { parseConfig as parseDnsname } from '../plugins/dnsname/config';
import { parseConfig as parseMacvlan } from '../plugins/macvlan/config';
import { parseConfig as parseHostDevice } from '../plugins/host-device/config';
import { parseConfig as parseTap } from '../plugins/tap/config';
import { parseConfig as parseIpvlan } from '../plugins/ipvlan/config';
import { parseConfig as parseVlan } from '../plugins/vlan/config';
import { parseConfig as parseDummy } from '../plugins/dummy/config';
import { parseConfig as parseSbr } from '../plugins/sbr/config';
import { parseConfig as parseVrf } from '../plugins/vrf/config';
import { NetConfList, isSupportedVersion, parseWith } from '../lib/types';
import { validateNetworkName } from '../lib/skel/validate';

const dir = join(__dirname, '..', 'conf-examples');
const files = readdirSync(dir).filter((f) => /\.(conflist|conf|json)$/.test(f));
const built = new Set(PLUGINS.map((p: { name: string }) => p.name));

/** Each plugin's own config parser, so an example cannot drift from what the plugin accepts. */
const parsers: Record<string, (cmd: CmdArgs) => unknown> = {
  'host-local': parseHostLocal,
  static: parseStatic,
  dhcp: parseDhcp,
  bridge: parseBridge,
  ptp: parsePtp,
  portmap: parsePortmap,
  firewall: parseFirewall,
  tuning: parseTuning,
  bandwidth: parseBandwidth,
  dnsname: parseDnsname,
  macvlan: parseMacvlan,
  'host-device': parseHostDevice,
  tap: parseTap,
  ipvlan: parseIpvlan,
  vlan: parseVlan,
  dummy: parseDummy,
  sbr: parseSbr,
  vrf: parseVrf,
};

describe.each(files)('conf-examples/%s', (file) => {
  const list = parseWith(NetConfList, JSON.parse(readFileSync(join(dir, file), 'utf8')), file);

  it('is a valid conflist in a supported version', () => {
    expect(isSupportedVersion(list.cniVersion)).toBe(true);
    expect(() => validateNetworkName(list.name)).not.toThrow();
  });

  it.each(list.plugins.map((p, i) => [i, p] as const))('plugin %i parses with its own schema', (_i, plugin) => {
    expect(built.has(plugin.type), `no bin/${plugin.type} in this suite`).toBe(true);
    const cmd = cmdArgs({ ...plugin, cniVersion: list.cniVersion, name: list.name });
    for (const type of [plugin.type, (plugin as { ipam?: { type?: string } }).ipam?.type]) {
      if (type && parsers[type]) expect(() => parsers[type](cmd)).not.toThrow();
    }
  });
});
