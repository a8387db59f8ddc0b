import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TestNetns } from './netns';

const THROUGHPUT = join(__dirname, 'throughput.mjs');

/**
 * Sends `bytes` over one TCP connection from `from` to `to` (listening on every address, port
 * 5201) and returns the receiver's rate in bits/s, first byte to last.
 */
export async function measure(from: TestNetns, to: TestNetns, address: string, bytes: number, localAddress?: string): Promise<number> {
  const sink = spawn('ip', ['netns', 'exec', to.name, process.execPath, THROUGHPUT, 'sink', '5201'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    const result = new Promise<{ bytes: number; seconds: number }>((resolve, reject) => {
      sink.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      sink.once('exit', (code) => reject(new Error(`throughput sink exited with ${code}: ${out}`)));
    });
    await new Promise((resolve) => sink.stdout.once('data', resolve)); // "listening"
    const sender = spawnSync('ip', ['netns', 'exec', from.name, process.execPath, THROUGHPUT, 'send', address, '5201', String(bytes), ...(localAddress ? [localAddress] : [])], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(sender.status, sender.stderr).toBe(0);
    const r = await result;
    expect(r.bytes).toBe(bytes);
    return (r.bytes * 8) / r.seconds;
  } finally {
    sink.kill('SIGKILL');
  }
}

export const mbit = (bps: number) => `${(bps / 1e6).toFixed(2)} Mbit/s`;
/** Within ±`tolerance` (default 25%) of the configured rate. */
export function expectNear(measured: number, rate: number, tolerance = 0.25): void {
  expect(measured, `${mbit(measured)} against a limit of ${mbit(rate)}`).toBeGreaterThan(rate * (1 - tolerance));
  expect(measured, `${mbit(measured)} against a limit of ${mbit(rate)}`).toBeLessThan(rate * (1 + tolerance));
}
/** About 3 s of traffic at the rate. */
export const threeSecondsAt = (bps: number) => Math.round((bps / 8) * 3);
