import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsnameHosts, eventually, PodmanHost } from '../helpers/podman-env';

/**
 * Debian's podman-compose (1.0.3) driving Podman 4 (CNI backend) on our bin/, inside a throw-away
 * network namespace (see PodmanHost): two services on a user-defined network, each publishing a
 * port, find each other by service name and by container name through our dnsname.
 * podman-compose shells out to `podman` and passes its environment on, so running it under
 * nsenter with Podman's environment is all it takes. It ignores the exit status of the podman
 * commands it runs, so the test checks what they did rather than its exit status alone.
 */
const PROJECT = `cnitsapp${process.pid}`;
/** compose names the network <project>_<network> and the containers <project>_<service>_<n> */
const NETWORK = `${PROJECT}_appnet`;
const API = `${PROJECT}_api_1`;
const WEB = `${PROJECT}_web_1`;
const IMAGE = 'localhost/cnits-busybox';
const API_PORT = 18081;
const WEB_PORT = 18082;

let host: PodmanHost;
let composeFile: string;

/** A service that answers its own name over HTTP on `port`. */
const service = (name: string, port: number, hostPort: number) => ({
  image: IMAGE,
  command: ['/bin/busybox', 'sh', '-c', `/bin/busybox mkdir -p /srv && echo ${name} > /srv/index.html && exec /bin/busybox httpd -f -p ${port} -h /srv`],
  ports: [`127.0.0.1:${hostPort}:${port}`],
  networks: ['appnet'],
});

function compose(...args: string[]): string {
  const r = host.inNs('podman-compose', ['-f', composeFile, '-p', PROJECT, ...args], 120_000);
  if (r.status !== 0) throw new Error(`podman-compose ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

beforeAll(() => {
  host = PodmanHost.create('composehost');
  host.importImage(IMAGE);
  composeFile = join(host.dir, 'compose.yaml');
  // JSON is YAML
  writeFileSync(
    composeFile,
    JSON.stringify({ version: '3', services: { api: service('api', 8080, API_PORT), web: service('web', 80, WEB_PORT) }, networks: { appnet: {} } }, null, 2),
  );
});

afterAll(() => host?.destroy([NETWORK]));

describe('podman-compose on our plugins', () => {
  it('runs two services that reach each other by service and container name, publishes their ports, and leaves nothing after down', async () => {
    compose('up', '-d');
    expect(host.podman('ps', '--format', '{{.Names}}').split('\n').sort()).toEqual([API, WEB]);
    const conflist = JSON.parse(readFileSync(join(host.dir, 'net.d', `${NETWORK}.conflist`), 'utf8'));
    expect(conflist.plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'portmap', 'firewall', 'tuning', 'dnsname']);

    // by service name (compose's --network-alias) and by container name (K8S_POD_NAME), both ways
    expect(await eventually(() => host.wget(WEB, 'http://api:8080/'))).toBe('api\n');
    expect(host.wget(WEB, `http://${API}:8080/`)).toBe('api\n');
    expect(host.wget(WEB, 'http://api.dns.podman:8080/')).toBe('api\n');
    expect(await eventually(() => host.wget(API, 'http://web/'))).toBe('web\n');
    expect(host.wget(API, `http://${WEB}/`)).toBe('web\n');
    // the published ports from the host side
    expect(await eventually(() => host.httpGet(`http://127.0.0.1:${API_PORT}/`))).toBe('api\n');
    expect(await eventually(() => host.httpGet(`http://127.0.0.1:${WEB_PORT}/`))).toBe('web\n');
    // one dnsmasq for the network, both containers' names in its hosts file
    expect(host.dnsmasqs([NETWORK])).toHaveLength(1);
    expect(
      dnsnameHosts(NETWORK)
        .map((l) => l.slice(1, 3))
        .sort(),
    ).toEqual([
      [API, 'api'],
      [WEB, 'web'],
    ]);

    // busybox httpd as PID 1 ignores SIGTERM, so stop at once rather than after compose's default 10 s
    compose('down', '-t', '0');
    expect(host.podman('ps', '--all', '--quiet')).toBe('');
    // the DEL of the network's last container stopped its dnsmasq
    expect(host.dnsmasqs([NETWORK])).toEqual([]);
    // compose does not remove the network it created
    host.podman('network', 'rm', '--force', NETWORK);
    expect(host.leftovers(NETWORK)).toEqual([]);
    expect(host.httpGet(`http://127.0.0.1:${API_PORT}/`)).toBeUndefined();
  });
});
