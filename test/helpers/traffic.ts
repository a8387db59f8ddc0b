import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestNetns } from './netns';

const ECHO = join(__dirname, 'echo.mjs');
const servers = new Set<ChildProcess>();

process.on('exit', () => stopServers());

export type Proto = 'tcp' | 'udp';

/** Starts an echo server in `ns` (on every address unless `bind`); it answers "<name> saw <client address>". */
export function serve(ns: TestNetns, proto: Proto, port: number, name: string, bind?: string): Promise<void> {
  const args = [ECHO, 'serve', proto, String(port), name, ...(bind ? [bind] : [])];
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.add(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`echo server in ${ns.name} exited with ${code}`)));
  });
}

/** Servers must go before their namespaces: a live process keeps a deleted namespace alive. */
export function stopServers(): void {
  for (const child of servers) child.kill('SIGKILL');
  servers.clear();
}

/** A UDP client in `ns` that keeps sending to host:port from one source port; `answers` holds what came back, in order. */
export function udpStream(ns: TestNetns, host: string, port: number): { answers: string[] } {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, ECHO, 'stream', 'udp', host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.add(child);
  const stream = { answers: [] as string[] };
  let partial = '';
  child.stdout!.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    stream.answers.push(...lines.filter(Boolean));
  });
  return stream;
}

/** The server's answer to a connection from `ns` to host:port, or undefined when nothing answers. */
export function ask(ns: TestNetns, proto: Proto, host: string, port: number): string | undefined {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, ECHO, 'ask', proto, host, String(port)], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
