import { VERSION } from '../about';
import { warmUpNetlink } from '../netlink/warm-up';
import { type PluginIO, runPlugin } from '../skel';
import { type Result, resultToVersion } from '../types';

const result: Result = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:58:00:01' },
    { name: 'veth0', mac: '0a:58:0a:58:00:02' },
    { name: 'eth0', mac: '0a:58:0a:58:00:03', sandbox: '/run/netns/warm-up' },
  ],
  ips: [
    { address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 2 },
    { address: 'fd00::2/64', gateway: 'fd00::1', interface: 2 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }],
  dns: { nameservers: ['10.88.0.1'] },
};

const config = {
  cniVersion: '1.0.0',
  name: 'warm-up',
  type: 'bridge',
  bridge: 'cni0',
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
  runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  prevResult: { ...result, cniVersion: '1.0.0' },
};

/**
 * Runs the protocol's common path once in a warm worker before it waits for calls, so that V8 has
 * compiled what every call runs (a function never run is compiled on its first call, inside the
 * call's time). Only pure code runs: no namespace exists at the path given, so nothing reaches
 * koffi, netlink, the disk or a module's cache of them.
 */
export async function warmUp(): Promise<void> {
  const verbs = { add: async () => result, del: async () => undefined, check: async () => undefined };
  const env = { CNI_CONTAINERID: 'warm-up', CNI_NETNS: '/nonexistent/warm-up', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent' };
  for (const command of ['VERSION', 'DEL', 'ADD'])
    await runPlugin(verbs, { name: 'warm-up', version: VERSION }, silentIO({ ...env, CNI_COMMAND: command }, JSON.stringify(config)));
  for (const version of ['0.4.0', '1.1.0']) JSON.stringify(resultToVersion(result, version));
  await warmUpNetlink();
}

function silentIO(env: Record<string, string>, stdin: string): PluginIO {
  return { env, readStdin: () => Buffer.from(stdin), writeStdout: () => undefined, writeStderr: () => undefined };
}
