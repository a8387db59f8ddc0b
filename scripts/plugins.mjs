/**
 * Every executable the suite builds, one line each: the name in bin/ (a plugin's type), its entry
 * module (a plugin's exports `main = definePlugin(…)`, lib/skel/define.ts), and its kind: a
 * `plugin` runs for runtimes and is served by the warm workers; a `tool` runs for people.
 * The build, the launchers, the workers' script, the installers and the README's test read this list.
 */
export const PLUGINS = [
  { name: 'bridge', main: 'plugins/bridge/main.ts', kind: 'plugin' },
  { name: 'ptp', main: 'plugins/ptp/main.ts', kind: 'plugin' },
  { name: 'macvlan', main: 'plugins/macvlan/main.ts', kind: 'plugin' },
  { name: 'host-device', main: 'plugins/host-device/main.ts', kind: 'plugin' },
  { name: 'tap', main: 'plugins/tap/main.ts', kind: 'plugin' },
  { name: 'ipvlan', main: 'plugins/ipvlan/main.ts', kind: 'plugin' },
  { name: 'vlan', main: 'plugins/vlan/main.ts', kind: 'plugin' },
  { name: 'dummy', main: 'plugins/dummy/main.ts', kind: 'plugin' },
  { name: 'host-local', main: 'ipam/host-local/main.ts', kind: 'plugin' },
  { name: 'static', main: 'ipam/static/main.ts', kind: 'plugin' },
  { name: 'dhcp', main: 'ipam/dhcp/main.ts', kind: 'plugin' },
  { name: 'loopback', main: 'plugins/loopback/main.ts', kind: 'plugin' },
  { name: 'portmap', main: 'plugins/portmap/main.ts', kind: 'plugin' },
  { name: 'firewall', main: 'plugins/firewall/main.ts', kind: 'plugin' },
  { name: 'tuning', main: 'plugins/tuning/main.ts', kind: 'plugin' },
  { name: 'bandwidth', main: 'plugins/bandwidth/main.ts', kind: 'plugin' },
  { name: 'dnsname', main: 'plugins/dnsname/main.ts', kind: 'plugin' },
  { name: 'sbr', main: 'plugins/sbr/main.ts', kind: 'plugin' },
  { name: 'vrf', main: 'plugins/vrf/main.ts', kind: 'plugin' },
  { name: 'cnitool', main: 'tools/cnitool/main.ts', kind: 'tool' },
  { name: 'cni-ts-reapply', main: 'tools/reapply/main.ts', kind: 'tool' },
  { name: 'cni-ts', main: 'tools/cni-ts/main.ts', kind: 'tool' },
];
