import type { AttachmentView, NetworkView } from './inventory';
import { table, type Style } from './table';

const short = (id: string) => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);

function netnsCell(a: AttachmentView, style: Style): string {
  if (!a.netns) return '-';
  return a.netnsExists === false ? `${a.netns} ${style.red('(gone)')}` : a.netns;
}

/** `cni-ts ls`: per network, its conflist and plugins, each range's use, and who holds what. */
export function renderNetworks(networks: NetworkView[], style: Style): string {
  const out: string[] = [];
  for (const net of networks) {
    out.push(`${style.bold(`network ${net.name}`)}  ${net.file ? `${net.file} (${net.plugins.join(', ')})` : '(no conflist: known from state only)'}`);
    for (const r of net.ranges) out.push(`  range ${r.range}: ${r.used} used, ${r.free} free`);
    if (!net.attachments.length) {
      out.push('  no containers', '');
      continue;
    }
    const rows = net.attachments.map((a) => [
      short(a.containerId),
      a.ifname,
      netnsCell(a, style),
      a.addresses.join('\n') || '-',
      a.hostVeth ?? '-',
      a.ports.join('\n') || '-',
      [...a.masquerade.map((ip) => `masq ${ip}`), ...a.firewall].join('\n') || '-',
      a.names.join(' ') || '-',
    ]);
    out.push(...table(['CONTAINER', 'IFNAME', 'NETNS', 'ADDRESSES', 'HOST VETH', 'PORTS', 'MASQUERADE / FIREWALL', 'DNS NAMES'], rows, style).map((l) => `  ${l}`), '');
  }
  return out.join('\n');
}

/** `cni-ts inspect ID`: the attachments whose container id starts with `id`, with their network. */
export function findContainer(networks: NetworkView[], id: string): Array<AttachmentView & { network: string }> {
  return networks.flatMap((net) => net.attachments.filter((a) => a.containerId.startsWith(id)).map((a) => ({ network: net.name, ...a })));
}
