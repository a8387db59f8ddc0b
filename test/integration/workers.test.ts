import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { socketCalls } from '../../lib/ffi/unix-sockets';
import { BIN_DIR } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { WorkerHost, type WorkerCall } from '../helpers/workers';

/**
 * Warm workers (lib/workers): bin/<plugin> hands a call to a worker of `cni-ts workers` when one
 * answers, else runs the plugin itself. Real supervisor, real workers, real clients, run in a
 * node's host namespace as a runtime would run them.
 */
let node: NodeFixture;
let workers: WorkerHost;
const pool = useNodeFixture('cnit-workers-', (fixture) => (node = fixture));
beforeEach(() => {
  workers = new WorkerHost(node.host, join(node.dir, 'run', 'workers.sock'));
});
afterEach(() => workers.destroy());

const NET = 'wknet';
const bridgeConf = () => ({
  cniVersion: '1.1.0',
  name: NET,
  type: 'bridge',
  bridge: 'cniwk0',
  isGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', dataDir: join(node.dir, 'ipam'), ranges: [[{ subnet: '10.58.0.0/24' }]] },
});
const VERSION_CALL = { command: 'VERSION', stdin: { cniVersion: '1.0.0' } };

function attachment(command: string, ctr: TestNetns, extra: Record<string, string> = {}, prevResult?: object) {
  return workers.call('bridge', {
    command,
    stdin: { ...bridgeConf(), ...(prevResult ? { prevResult } : {}) },
    env: { CNI_CONTAINERID: `ctr-${ctr.name}`, CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_TS_STATE_DIR: join(node.dir, 'state'), ...extra },
  });
}
const run = async (command: string, ctr: TestNetns, extra: Record<string, string> = {}, prevResult?: object) => attachment(command, ctr, extra, prevResult).done;
const ok = (r: WorkerCall) => expect(r.code, r.stdout + r.stderr).toBe(0);
const hostVeths = () => node.host.ipJson<Array<{ ifname: string }>>('link', 'show', 'type', 'veth').map((l) => l.ifname);
const reservations = () => (existsSync(join(node.dir, 'ipam', NET)) ? readdirSync(join(node.dir, 'ipam', NET)).filter((f) => /^\d/.test(f)) : []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds host-local's lock of the network, so an ADD waits inside its worker until `release`. */
function holdIpamLock(): { release(): void } {
  mkdirSync(join(node.dir, 'ipam', NET), { recursive: true });
  // --no-fork: the lock's holder is the process killed on release, not a child that would keep it
  const holder: ChildProcess = spawn('flock', ['--no-fork', '-x', join(node.dir, 'ipam', NET, 'lock'), 'sleep', '60'], { stdio: 'ignore' });
  return { release: () => holder.kill('SIGKILL') };
}

/** The worker serving a call: its stdin is the client's (an idle or starting worker's is /dev/null). */
async function busyWorker(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const busy = workers.workers().filter((w) => {
      try {
        return readlinkSync(`/proc/${w.pid}/fd/0`) !== '/dev/null';
      } catch {
        return false;
      }
    });
    if (busy.length === 1) return busy[0].pid;
    await sleep(50);
  }
  throw new Error(`no busy worker: ${JSON.stringify(workers.workers())}`);
}

/** Running: a process that has exited but not been reaped (a zombie; this sandbox's PID 1 reaps late) is not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('warm workers', () => {
  it('serve a bridge ADD, CHECK and DEL with the same result and kernel state as a plugin process', async () => {
    await workers.startSupervisor(3);
    // the socket's directory, made by the supervisor, is root's alone; the socket too
    expect([statSync(join(node.dir, 'run')).mode & 0o777, statSync(workers.socket).mode & 0o777]).toEqual([0o700, 0o600]);
    const a = pool.make('a');
    const add = await run('ADD', a);
    ok(add);
    expect(add.startedFrom).toBe('worker');
    const address = add.json.ips[0].address.split('/')[0];
    expect(a.exec('ip', ['-4', '-o', 'addr', 'show', 'eth0'])).toContain(`inet ${address}/24`);
    const check = await run('CHECK', a, {}, add.json);
    ok(check);
    expect(check.startedFrom).toBe('worker');

    // the same call through the launcher (workers off for it) answers in the same shape
    const b = pool.make('b');
    const launched = await run('ADD', b, { CNI_TS_WORKERS: 'off' });
    ok(launched);
    expect(launched.startedFrom).not.toBe('worker');
    const shape = (r: WorkerCall) => ({ keys: Object.keys(r.json).sort(), interfaces: r.json.interfaces.length, ips: r.json.ips.length, sandbox: r.json.interfaces[2].sandbox });
    expect(shape(add)).toEqual({ ...shape(launched), sandbox: a.path });

    for (const ctr of [a, b]) ok(await run('DEL', ctr));
    expect(hostVeths().filter((v) => v !== 'uplink0')).toEqual([]);
    expect(reservations()).toEqual([]);
  });

  it('fall back to the plugin process when no worker may answer: no socket, a stale socket, a non-root caller, a client of another build', async () => {
    // no supervisor at all
    expect((await workers.call('loopback', VERSION_CALL).done).startedFrom).toBe('bundle');
    // a socket file left by a supervisor that died (nobody listens)
    mkdirSync(join(node.dir, 'run'), { recursive: true });
    socketCalls().close(socketCalls().listenUnix(workers.socket, 1));
    expect((await workers.call('loopback', VERSION_CALL).done).startedFrom).toBe('bundle');

    // the supervisor replaces that stale socket, and leaves the mode of a directory it did not make
    chmodSync(join(node.dir, 'run'), 0o755);
    await workers.startSupervisor(2);
    expect(statSync(join(node.dir, 'run')).mode & 0o777).toBe(0o755);
    expect((await workers.call('loopback', VERSION_CALL).done).startedFrom).toBe('worker');
    await workers.waitForIdle(2);
    const before = workers.workers().map((w) => w.pid);

    const nobody = await workers.call('loopback', { ...VERSION_CALL, wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] }).done;
    expect(nobody.code).toBe(0);
    expect(nobody.startedFrom).toBe('bundle');

    // a client of another build: its own tree (launch/ and dist/ beside its bin/)
    const other = join(node.dir, 'other');
    mkdirSync(join(other, 'bin'), { recursive: true });
    for (const dir of ['launch', 'dist']) symlinkSync(join(BIN_DIR, '..', dir), join(other, dir));
    execFileSync('cc', ['-O2', '-DBUILD_ID="0000000000000000"', '-o', join(other, 'bin', 'loopback'), join(BIN_DIR, '..', 'lib', 'workers', 'client.c')]);
    const foreign = await workers.call('loopback', { ...VERSION_CALL, executable: join(other, 'bin', 'loopback') }).done;
    expect(foreign.code, foreign.stderr).toBe(0);
    expect(foreign.startedFrom).toBe('bundle');

    // none of them took a worker
    expect(workers.workers().map((w) => w.pid)).toEqual(before);
  });

  it('a busy pool: calls wait for a worker to be free (CNI_TS_WORKERS_BUSY_MS), run as processes when none is in time, and all succeed', async () => {
    await workers.startSupervisor(1);
    const held = pool.make('held');
    const lock = holdIpamLock();
    const version = (busyMs?: string) =>
      workers.call('loopback', { ...VERSION_CALL, env: { CNI_TS_WORKERS_HELLO_MS: '50', ...(busyMs ? { CNI_TS_WORKERS_BUSY_MS: busyMs } : {}) } }).done;
    let blocked: ReturnType<typeof attachment> | undefined;
    let waited: Promise<WorkerCall[]> | undefined;
    try {
      // the only worker is busy with an ADD that waits for host-local's lock
      blocked = attachment('ADD', held);
      await busyWorker();
      // not willing to wait: they run as processes at once
      const impatient = await Promise.all([1, 2, 3].map(() => version('0')));
      for (const r of impatient) ok(r);
      expect(impatient.map((r) => r.startedFrom)).toEqual(['bundle', 'bundle', 'bundle']);
      // willing to wait (the default second): the worker serves them once the ADD is done
      waited = Promise.all([1, 2, 3].map(() => version()));
      await sleep(200);
    } finally {
      lock.release();
    }
    for (const r of await waited!) {
      ok(r);
      expect(r.startedFrom).toBe('worker');
    }
    const add = await blocked!.done;
    ok(add);
    expect(add.startedFrom).toBe('worker');
    ok(await run('DEL', held));
    expect(reservations()).toEqual([]);
  });

  it('refuse garbage, truncated and oversized frames, and callers from other namespaces, and keep serving', async () => {
    await workers.startSupervisor(2);
    const exchange = `
      const net = require('node:net');
      const [path, what] = process.argv.slice(1);
      const s = net.connect(path);
      let got = '';
      s.on('data', (d) => {
        got += d;
        if (got.split('\\n').length === 2) {
          const header = Buffer.alloc(12); header.write('CNTR'); header.writeUInt32LE(1, 4);
          if (what === 'garbage') s.write('GET / HTTP/1.0\\r\\n\\r\\n');
          if (what === 'oversized') { header.writeUInt32LE(64 << 20, 8); s.write(header); }
          if (what === 'truncated') { header.writeUInt32LE(100, 8); s.end(Buffer.concat([header, Buffer.from('bridge')])); }
        }
      });
      s.on('close', () => process.stdout.write(JSON.stringify(got.split('\\n').filter(Boolean))));
      s.on('error', () => undefined);
    `;
    for (const what of ['garbage', 'oversized']) {
      const [hello, answer] = JSON.parse(await workers.node(exchange, workers.socket, what));
      expect(hello).toMatch(/^cni-ts-worker 1 [0-9a-f]{16}$/);
      expect(answer).toMatch(/^error /);
    }
    const [, truncated] = JSON.parse(await workers.node(exchange, workers.socket, 'truncated'));
    expect(truncated).toMatch(/^error the request ended after 18 of 112 bytes/);
    // this test's own process runs in other namespaces than the workers' host: refused before any hello
    const refused = await new Promise<string>((resolve) => {
      const s = require('node:net').connect(workers.socket);
      let got = '';
      s.on('data', (d: Buffer) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(refused).toBe('refused\n');
    await workers.waitForIdle(2);
    expect((await workers.call('loopback', VERSION_CALL).done).startedFrom).toBe('worker');
  });

  /** An ADD of `ctr` held inside its worker (host-local's lock taken) and interrupted; then the lock goes, and a DEL must leave nothing. */
  async function interruptedAdd(ctr: TestNetns, interrupt: (add: ReturnType<typeof attachment>, workerPid: number) => Promise<void>) {
    const lock = holdIpamLock();
    try {
      const add = attachment('ADD', ctr);
      await interrupt(add, await busyWorker());
    } finally {
      lock.release();
    }
    ok(await run('DEL', ctr));
    expect(hostVeths().filter((v) => v !== 'uplink0')).toEqual([]);
    expect(reservations()).toEqual([]);
  }

  it('a worker killed mid-ADD: the client answers at once (11), and the DEL that follows leaves nothing', async () => {
    await workers.startSupervisor(2);
    await interruptedAdd(pool.make('k'), async (add, pid) => {
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      const r = await add.done;
      expect(Date.now() - killedAt).toBeLessThan(1000);
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ code: 11, msg: expect.stringContaining('stopped before it answered') });
    });
  });

  it('a client killed mid-ADD (a runtime timeout): its worker stops too, and the DEL leaves nothing', async () => {
    await workers.startSupervisor(2);
    await interruptedAdd(pool.make('t'), async (add, pid) => {
      add.child.kill('SIGKILL');
      await add.done;
      for (let i = 0; i < 40 && alive(pid); i++) await sleep(25);
      expect(alive(pid)).toBe(false);
    });
  });

  it('a supervisor stopped (an upgrade) while a worker is in a call: the call finishes, then that worker goes too', async () => {
    await workers.startSupervisor(2);
    const ctr = pool.make('u');
    const lock = holdIpamLock();
    let add: ReturnType<typeof attachment> | undefined;
    let busy = 0;
    try {
      add = attachment('ADD', ctr);
      busy = await busyWorker();
      workers.stopSupervisor('SIGTERM');
      await sleep(300);
      expect(alive(busy)).toBe(true);
    } finally {
      lock.release();
    }
    const r = await add!.done;
    ok(r);
    expect(r.startedFrom).toBe('worker');
    for (let i = 0; i < 40 && alive(busy); i++) await sleep(25);
    expect(alive(busy)).toBe(false);
    ok(await run('DEL', ctr, { CNI_TS_WORKERS: 'off' }));
  });

  it('a supervisor killed: its idle workers go, calls fall back, and a new supervisor takes over the stale socket', async () => {
    await workers.startSupervisor(2);
    const idle = workers.workers().map((w) => w.pid);
    workers.stopSupervisor('SIGKILL');
    for (let i = 0; i < 40 && idle.some(alive); i++) await sleep(25);
    expect(idle.filter(alive)).toEqual([]);
    expect(existsSync(workers.socket)).toBe(true);
    expect((await workers.call('loopback', VERSION_CALL).done).startedFrom).toBe('bundle');
    await workers.startSupervisor(2);
    expect((await workers.call('loopback', VERSION_CALL).done).startedFrom).toBe('worker');
  });

  it('concurrent calls for containers in different namespaces never touch each other', async () => {
    await workers.startSupervisor(4);
    const ctrs = Array.from({ length: 8 }, (_, i) => pool.make(`c${i}`));
    for (let round = 0; round < 2; round++) {
      // replacements start at the lowest priority: under this burst they wait for the calls to end
      await workers.waitForIdle(4);
      const adds = await Promise.all(ctrs.map((c) => run('ADD', c)));
      adds.forEach((r, i) => {
        ok(r);
        const address = r.json.ips[0].address.split('/')[0];
        // each container has exactly its own address, on its own eth0
        expect(ctrs[i].exec('ip', ['-4', '-o', 'addr', 'show', 'eth0'])).toContain(`inet ${address}/24`);
        expect(r.json.interfaces[2].sandbox).toBe(ctrs[i].path);
      });
      expect(new Set(adds.map((r) => r.json.ips[0].address)).size).toBe(ctrs.length);
      expect(adds.filter((r) => r.startedFrom === 'worker').length).toBeGreaterThan(0);
      for (const r of await Promise.all(ctrs.map((c) => run('DEL', c)))) ok(r);
      expect(reservations()).toEqual([]);
    }
  });

  it('1,000 interleaved pairs of calls in two namespaces: each acts on its own namespace alone, and workers serve them all', { timeout: 600_000 }, async () => {
    await workers.startSupervisor(4);
    const [a, b] = [pool.make('pa'), pool.make('pb')];
    const loopback = (command: string, ctr: TestNetns) =>
      workers.call('loopback', {
        command,
        stdin: { cniVersion: '1.1.0', name: 'lo', type: 'loopback' },
        env: { CNI_CONTAINERID: `ctr-${ctr.name}`, CNI_NETNS: ctr.path, CNI_IFNAME: 'lo' },
      }).done;
    const loUp = (ctr: TestNetns) => ctr.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0].flags.includes('UP');
    let served = 0;
    for (let i = 0; i < 1000; i++) {
      // one namespace's lo goes up while the other's goes down, both calls in flight at once
      const [up, down] = i % 2 ? [a, b] : [b, a];
      const [add, del] = await Promise.all([loopback('ADD', up), loopback('DEL', down)]);
      ok(add);
      ok(del);
      expect(add.json.interfaces[0].sandbox).toBe(up.path);
      expect([loUp(up), loUp(down)], `pair ${i}`).toEqual([true, false]);
      served += [add, del].filter((r) => r.startedFrom === 'worker').length;
    }
    expect(served).toBe(2000);
  });
});
