/** Every executable the suite builds: the plugin type (the bin/ name) and its entry module. */
export const PLUGINS = [
  { name: 'bridge', main: 'plugins/bridge/main.ts' },
  { name: 'ptp', main: 'plugins/ptp/main.ts' },
  { name: 'macvlan', main: 'plugins/macvlan/main.ts' },
  { name: 'host-device', main: 'plugins/host-device/main.ts' },
  { name: 'tap', main: 'plugins/tap/main.ts' },
  { name: 'host-local', main: 'ipam/host-local/main.ts' },
  { name: 'static', main: 'ipam/static/main.ts' },
  { name: 'loopback', main: 'plugins/loopback/main.ts' },
  { name: 'portmap', main: 'plugins/portmap/main.ts' },
  { name: 'firewall', main: 'plugins/firewall/main.ts' },
  { name: 'tuning', main: 'plugins/tuning/main.ts' },
  { name: 'bandwidth', main: 'plugins/bandwidth/main.ts' },
  { name: 'dnsname', main: 'plugins/dnsname/main.ts' },
  { name: 'cnitool', main: 'tools/cnitool/main.ts' },
  { name: 'cni-ts-reapply', main: 'tools/reapply/main.ts' },
  { name: 'cni-ts', main: 'tools/cni-ts/main.ts' },
];
