import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsnameHosts, eventually, networkFiles, PodmanHost } from '../helpers/podman-env';

/**
 * Podman 4 (Debian's package, CNI backend, runc, cgroupfs) running containers on our bin/, inside a
 * throw-away network namespace (see PodmanHost). With our dnsname in bin/, Podman adds it to every
 * network it creates, so containers on one network find each other by name.
 */
const NETWORK = `cnits-e2e-${process.pid}`;
const SUBNET = '10.78.0.0/24';
const NETWORK2 = `cnits-e2e2-${process.pid}`;
const SUBNET2 = '10.79.0.0/24';
const NETWORK3 = `cnits-e2e3-${process.pid}`;
const SUBNET3 = '10.76.0.0/24';
const HOST_PORT = 18080;
const HOST_PORT2 = 18197;

let host: PodmanHost;

const podman = (...args: string[]) => host.podman(...args);
const run = (network: string, options: string[], command: string[]) => podman('run', '--network', network, ...options, '--rootfs', host.rootfs, ...command);
const sleeper = (network: string, name: string) => run(network, ['-d', '--name', name], ['/bin/busybox', 'sleep', '600']);

/** The page `from` gets at http://<name>/ (undefined when the name does not resolve or nothing answers). */
const wget = (from: string, name: string) => host.wget(from, `http://${name}/`);

/** The addresses busybox nslookup in `from` gets for `name` (empty when the lookup fails). */
function lookup(from: string, name: string): string[] {
  const r = host.busybox(from, 'nslookup', name);
  // the answer follows the "Server:/Address:" block of the server asked, after a blank line
  const answer = r.stdout.split('\n\n').slice(1).join('\n');
  return r.status === 0 ? [...answer.matchAll(/^Address:\s*(\S+)$/gm)].map((m) => m[1]) : [];
}

beforeAll(() => {
  host = PodmanHost.create('podhost');
  podman('network', 'create', '--subnet', SUBNET, NETWORK);
});

afterAll(() => host?.destroy([NETWORK, NETWORK2, NETWORK3]));

describe('Podman 4 on our plugins', () => {
  it('serves HTTP through a mapped port and directly, lets a second container in, and leaves nothing after removal', async () => {
    const conflist = JSON.parse(readFileSync(join(host.dir, 'net.d', `${NETWORK}.conflist`), 'utf8'));
    // the conflist Podman generates, unchanged: bridge + host-local, portmap, firewall ("backend": ""), tuning, and
    // dnsname because a file of that name is in its plugin directory
    expect(conflist.cniVersion).toBe('0.4.0');
    expect(conflist.plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'portmap', 'firewall', 'tuning', 'dnsname']);

    const id = run(NETWORK, ['-d', '--name', 'web', '-p', `127.0.0.1:${HOST_PORT}:80`], ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    const ip = host.address('web', NETWORK);
    expect(ip).toMatch(/^10\.78\.0\.\d+$/);

    expect(await eventually(() => host.httpGet(`http://127.0.0.1:${HOST_PORT}/`))).toBe('hello from podman\n');
    expect(host.httpGet(`http://${ip}/`)).toBe('hello from podman\n');
    const fromPeer = run(NETWORK, ['--rm'], ['/bin/busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc ${ip} 80`]);
    expect(fromPeer).toContain('hello from podman');

    // Podman asked for 0.4.0 and parsed what it got; the cached result is in that version's shape
    const cached = JSON.parse(readFileSync(`/var/lib/cni/results/${NETWORK}-${id}-eth0`, 'utf8'));
    expect(cached.result.cniVersion).toBe('0.4.0');
    expect(cached.result.ips[0]).toMatchObject({ version: '4', address: `${ip}/24`, gateway: '10.78.0.1' });
    expect(host.nftElements()).toContainEqual(expect.stringContaining(`portmap4_hostip [{"concat":["127.0.0.1","tcp",${HOST_PORT}]},{"concat":["${ip}",80]}]`));

    podman('rm', '--force', '--time', '0', 'web');
    expect(podman('ps', '--all', '--quiet')).toBe('');
    expect(host.leftovers(NETWORK)).toEqual([]);
    expect(host.httpGet(`http://127.0.0.1:${HOST_PORT}/`)).toBeUndefined();
  });

  it("connects a running container to a second network (eth1, its name on both) and disconnects it (only that network's names and addresses go)", async () => {
    podman('network', 'create', '--subnet', SUBNET2, NETWORK2);
    const id = run(NETWORK, ['-d', '--name', 'hub'], ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    sleeper(NETWORK, 'peer1');
    sleeper(NETWORK2, 'peer2');
    const veths = host.veths().length;
    const ip1 = host.address('hub', NETWORK);
    expect(await eventually(() => wget('peer1', 'hub'))).toBe('hello from podman\n');
    expect(lookup('peer2', 'hub')).toEqual([]);

    podman('network', 'connect', '--alias', 'hubalias', NETWORK2, 'hub');
    const ip2 = host.address('hub', NETWORK2);
    expect(ip2).toMatch(/^10\.79\.0\.\d+$/);
    expect(host.busybox('hub', 'ip', '-o', '-4', 'addr', 'show', 'eth1').stdout).toContain(`inet ${ip2}/24`);
    expect(host.veths()).toHaveLength(veths + 1);
    // a default route through each network, as the reference leaves them (the second takes over when the first goes)
    expect(host.busybox('hub', 'ip', 'route', 'show', 'default').stdout).toContain('default via 10.79.0.1 dev eth1');
    // by name from a container on each network, each network's own address
    expect(lookup('peer1', 'hub')).toEqual([ip1]);
    expect(lookup('peer2', 'hub')).toEqual([ip2]);
    // an alias given to one network is a name on that network only
    expect(lookup('peer2', 'hubalias')).toEqual([ip2]);
    expect(lookup('peer1', 'hubalias')).toEqual([]);
    expect(wget('peer1', 'hub')).toBe('hello from podman\n');
    expect(wget('peer2', 'hub')).toBe('hello from podman\n');
    expect(wget('peer2', 'hub.dns.podman')).toBe('hello from podman\n');
    expect(dnsnameHosts(NETWORK2).filter((l) => l.includes('hub'))).toEqual([[ip2, 'hub', 'hubalias', id.slice(0, 12)]]);

    podman('network', 'disconnect', NETWORK2, 'hub');
    expect(host.busybox('hub', 'ip', 'link', 'show', 'eth1').status).not.toBe(0);
    expect(host.veths()).toHaveLength(veths);
    // gone from network 2 (NXDOMAIN), still there on network 1
    expect(lookup('peer2', 'hub')).toEqual([]);
    expect(lookup('peer2', 'hub.dns.podman')).toEqual([]);
    expect(lookup('peer2', 'hubalias')).toEqual([]);
    expect(lookup('peer1', 'hub')).toEqual([ip1]);
    expect(wget('peer1', 'hub')).toBe('hello from podman\n');
    expect(dnsnameHosts(NETWORK2).filter((l) => l.includes('hub'))).toEqual([]);
    expect(dnsnameHosts(NETWORK2).map((l) => l[1])).toEqual(['peer2']);
    // nothing of hub's is left on network 2: no reservation, record, owner, cached result, set element
    expect(networkFiles(NETWORK2).filter((f) => f.includes(id) || readFileSync(f, 'utf8').includes(id))).toEqual([]);
    expect(host.nftElements().filter((e) => e.includes(`"${ip2}"`))).toEqual([]);

    podman('rm', '--all', '--force', '--time', '0');
    expect(host.leftovers(NETWORK)).toEqual([]);
    expect(host.leftovers(NETWORK2)).toEqual([]);
  });

  it('connects a container that publishes a port to a second network and back: the port answers throughout, by name on each network', async () => {
    podman('network', 'create', '--subnet', SUBNET3, NETWORK3);
    run(NETWORK, ['-d', '--name', 'pub', '-p', `${HOST_PORT2}:80`], ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    sleeper(NETWORK, 'near1');
    sleeper(NETWORK3, 'near3');
    const page = () => host.httpGet(`http://127.0.0.1:${HOST_PORT2}/`);
    /** The container address the published port leads to (the nftables element's data). */
    const portTarget = () =>
      host
        .nftElements()
        .find((e) => e.includes(`"tcp",${HOST_PORT2}]`))
        ?.match(/\{"concat":\["([\d.]+)",80\]\}/)?.[1];
    expect(await eventually(page)).toBe('hello from podman\n');
    const ip1 = host.address('pub', NETWORK);

    // Podman passes the container's port mappings to the second network's portmap too: it must not refuse its own port
    podman('network', 'connect', '--alias', 'frontdoor', NETWORK3, 'pub');
    const ip3 = host.address('pub', NETWORK3);
    expect(ip3).toMatch(/^10\.76\.0\.\d+$/);
    expect(page()).toBe('hello from podman\n');
    // the network that mapped the port first keeps its traffic
    expect(portTarget()).toBe(ip1);
    expect(lookup('near3', 'pub')).toEqual([ip3]);
    expect(lookup('near3', 'frontdoor')).toEqual([ip3]);
    expect(lookup('near1', 'pub')).toEqual([ip1]);
    expect(wget('near3', 'frontdoor')).toBe('hello from podman\n');

    // disconnecting the first network hands the port to the second
    podman('network', 'disconnect', NETWORK, 'pub');
    expect(portTarget()).toBe(ip3);
    expect(page()).toBe('hello from podman\n');
    expect(lookup('near1', 'pub')).toEqual([]);
    expect(lookup('near3', 'pub')).toEqual([ip3]);

    // back on the first network (it waits behind the second), then a restart (DEL and ADD of both)
    podman('network', 'connect', NETWORK, 'pub');
    const ip1again = host.address('pub', NETWORK);
    expect(lookup('near1', 'pub')).toEqual([ip1again]);
    expect(portTarget()).toBe(ip3);
    expect(page()).toBe('hello from podman\n');
    podman('restart', '--time', '0', 'pub');
    expect(await eventually(page)).toBe('hello from podman\n');
    expect([host.address('pub', NETWORK), host.address('pub', NETWORK3)]).toContain(portTarget());

    // disconnecting the other network leaves the port with the first
    podman('network', 'disconnect', NETWORK3, 'pub');
    expect(portTarget()).toBe(host.address('pub', NETWORK));
    expect(page()).toBe('hello from podman\n');
    expect(lookup('near3', 'pub')).toEqual([]);
    expect(lookup('near3', 'frontdoor')).toEqual([]);

    podman('rm', '--all', '--force', '--time', '0');
    expect(page()).toBeUndefined();
    expect(host.leftovers(NETWORK)).toEqual([]);
    expect(host.leftovers(NETWORK3)).toEqual([]);
  });
});
