import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, parsePrefix, prefixContains } from '../../lib/ip';
import { formatAddress, listAddresses, setLinkUp, withLinkIn, type AddressInfo, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { netnsExists } from '../../lib/netns';
import type { CmdArgs, DelArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';

const LOOPBACK = 'lo';
const loopbackNets = [parsePrefix('127.0.0.0/8')!, parsePrefix('::1/128')!];

const withLoopback = <T>(netns: string, fn: (sock: RtNetlinkSocket, lo: LinkInfo) => Promise<T>): Promise<T> =>
  withLinkIn(netns, LOOPBACK, (sock, lo) => {
    if (!lo) throw new CniError(ErrorCode.LinkFailure, `no "lo" interface in network namespace ${JSON.stringify(netns)}`);
    return fn(sock, lo);
  });

export async function add(cmd: CmdArgs): Promise<Result> {
  const addresses = await withLoopback(cmd.netns, async (sock, lo) => {
    await setLinkUp(sock, lo, true);
    return listAddresses(sock, lo.index);
  });
  const foreign = addresses.find((a) => !loopbackNets.some((net) => prefixContains(net, a.ip)));
  if (foreign) {
    throw new CniError(ErrorCode.LinkFailure, `loopback interface found with non-loopback address ${JSON.stringify(formatIP(foreign.ip))}`);
  }
  // Chained after another plugin, loopback passes the previous result through untouched.
  if (cmd.prevResult) return cmd.prevResult;
  const first = (family: 4 | 6): AddressInfo | undefined => addresses.find((a) => a.ip.family === family);
  const ips = [first(4), first(6)].filter((a): a is AddressInfo => a !== undefined).map((a) => ({ address: formatAddress(a), interface: 0 }));
  return {
    cniVersion: cmd.cniVersion,
    interfaces: [{ name: LOOPBACK, mac: '00:00:00:00:00:00', sandbox: cmd.netns }],
    ips,
  };
}

export async function del(cmd: DelArgs): Promise<void> {
  // The namespace may already be gone: then so is its loopback, and DEL has nothing to undo.
  if (!netnsExists(cmd.netns)) return;
  await withLoopback(cmd.netns, (sock, lo) => setLinkUp(sock, lo, false));
}

export async function check(cmd: CmdArgs): Promise<void> {
  const up = await withLoopback(cmd.netns, async (_sock, lo) => lo.up);
  if (!up) throw new CniError(ErrorCode.CheckFailed, `loopback interface "lo" in ${JSON.stringify(cmd.netns)} is down`);
}
