/**
 * Every executable the suite builds: the plugin type (the bin/ name), its entry module, and the
 * startup snapshot it starts from (dist/suite-<snapshot>.blob). A start deserialises the whole
 * snapshot, so each holds the executables that run together: `pod` the plugins a runtime runs for
 * every container (Podman's and Kubernetes' chains), `attach` the secondary-network plugins
 * (Multus, Podman macvlan), `tools` the administrators' commands. docs/performance.md
 */
export const PLUGINS = [
  { name: 'bridge', main: 'plugins/bridge/main.ts', snapshot: 'pod' },
  { name: 'ptp', main: 'plugins/ptp/main.ts', snapshot: 'pod' },
  { name: 'macvlan', main: 'plugins/macvlan/main.ts', snapshot: 'attach' },
  { name: 'host-device', main: 'plugins/host-device/main.ts', snapshot: 'attach' },
  { name: 'tap', main: 'plugins/tap/main.ts', snapshot: 'attach' },
  { name: 'ipvlan', main: 'plugins/ipvlan/main.ts', snapshot: 'attach' },
  { name: 'vlan', main: 'plugins/vlan/main.ts', snapshot: 'attach' },
  { name: 'dummy', main: 'plugins/dummy/main.ts', snapshot: 'attach' },
  { name: 'host-local', main: 'ipam/host-local/main.ts', snapshot: 'pod' },
  { name: 'static', main: 'ipam/static/main.ts', snapshot: 'pod' },
  { name: 'dhcp', main: 'ipam/dhcp/main.ts', snapshot: 'attach' },
  { name: 'loopback', main: 'plugins/loopback/main.ts', snapshot: 'pod' },
  { name: 'portmap', main: 'plugins/portmap/main.ts', snapshot: 'pod' },
  { name: 'firewall', main: 'plugins/firewall/main.ts', snapshot: 'pod' },
  { name: 'tuning', main: 'plugins/tuning/main.ts', snapshot: 'pod' },
  { name: 'bandwidth', main: 'plugins/bandwidth/main.ts', snapshot: 'pod' },
  { name: 'dnsname', main: 'plugins/dnsname/main.ts', snapshot: 'pod' },
  { name: 'cnitool', main: 'tools/cnitool/main.ts', snapshot: 'tools' },
  { name: 'cni-ts-reapply', main: 'tools/reapply/main.ts', snapshot: 'tools' },
  { name: 'cni-ts', main: 'tools/cni-ts/main.ts', snapshot: 'tools' },
];

/** The startup snapshots the build makes, one per group named above. */
export const SNAPSHOT_GROUPS = [...new Set(PLUGINS.map((p) => p.snapshot))];
