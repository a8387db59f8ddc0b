// The kernel lab's test harness: plain Node, no test framework, so it runs inside the lab's guest
// (scripts/lab/) as well as it lists cases on the host. A case file (test/lab/<topic>.lab.mjs)
// registers cases with labCase(name, fn) when imported; test/lab/run.mjs runs them one by one.
// fn receives a context `t` whose namespaces, directories and deferred steps are undone after the
// case, pass or fail. Guide: docs/development.md, "Kernel lab".
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export { assert };

/** The suite's root (in the guest /opt/cni-ts) and its launchers. */
export const SUITE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN_DIR = join(SUITE, 'bin');

const cases = [];

/** Registers a case; `timeoutMs` bounds its asynchronous steps (every command has its own timeout too). */
export function labCase(name, fn, { timeoutMs = 90_000 } = {}) {
  if (cases.some((c) => c.name === name)) throw new Error(`lab case ${JSON.stringify(name)} is registered twice`);
  cases.push({ name, fn, timeoutMs });
}

export const registeredCases = () => cases;

/** Runs a program and returns its stdout; a failure throws with the command and its stderr. */
export function sh(file, args = [], { input, timeoutMs = 30_000 } = {}) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
  } catch (e) {
    const why = e.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : `exit ${e.status}${e.signal ? ` (${e.signal})` : ''}`;
    throw new Error(`${[file, ...args].join(' ')}: ${why}: ${String(e.stderr ?? e.message).trim()}`);
  }
}

/** True when `file args` exits 0. */
export function succeeds(file, args = [], opts = {}) {
  try {
    sh(file, args, opts);
    return true;
  } catch {
    return false;
  }
}

let counter = 0;

/** A network namespace under /run/netns; made through `t.netns`, which removes it after the case. */
export class Netns {
  constructor(name) {
    this.name = name;
  }

  get path() {
    return `/run/netns/${this.name}`;
  }

  /** `ip -n <ns> args` */
  ip(...args) {
    return sh('ip', ['-n', this.name, ...args]);
  }

  /** `ip -n <ns> -j args`, parsed */
  ipJson(...args) {
    return JSON.parse(sh('ip', ['-n', this.name, '-j', ...args]) || '[]');
  }

  /** Runs a program inside the namespace. */
  exec(file, args = [], opts = {}) {
    return sh('ip', ['netns', 'exec', this.name, file, ...args], opts);
  }

  /** True when one ping from this namespace to `address` is answered within 2 s (busybox ping). */
  pings(address) {
    return succeeds('ip', ['netns', 'exec', this.name, 'ping', '-c1', '-W2', address]);
  }
}

/**
 * Execs a built plugin exactly as a runtime does: a fresh process, CNI_* environment, config on
 * stdin; inside `inNetns` (a Netns, the "host" of the case) when given. Resolves to
 * { code, stdout, stderr, json }; a plugin still running after `timeoutMs` is killed.
 */
export function execPlugin(plugin, { command, containerId, netns, ifname, cniArgs, stdin = {}, env = {}, inNetns, timeoutMs = 30_000 } = {}) {
  const vars = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: BIN_DIR };
  const set = (k, v) => v !== undefined && (vars[k] = String(v));
  set('CNI_COMMAND', command);
  set('CNI_CONTAINERID', containerId);
  set('CNI_NETNS', netns instanceof Netns ? netns.path : netns);
  set('CNI_IFNAME', ifname);
  set('CNI_ARGS', cniArgs);
  for (const [k, v] of Object.entries(env)) set(k, v);
  const exe = plugin.includes('/') ? plugin : join(BIN_DIR, plugin);
  const [file, args] = inNetns ? ['ip', ['netns', 'exec', inNetns.name, exe]] : [exe, []];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env: vars, stdio: ['pipe', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      let json;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ code: code ?? -1, signal, stdout, stderr, json });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
  });
}

/** Throws unless the plugin succeeded, with what it printed. */
export function expectOk(outcome, what = 'plugin') {
  if (outcome.code !== 0) throw new Error(`${what} exited ${outcome.code}${outcome.signal ? ` (${outcome.signal})` : ''}: ${outcome.stdout.trim()} ${outcome.stderr.trim()}`);
  return outcome;
}

/** The context a case receives; `undo` runs everything it made, last first, and returns what failed. */
export function caseContext() {
  const steps = [];
  return {
    /** A fresh network namespace, removed after the case. */
    netns(label = 'ns') {
      const ns = new Netns(`lab-${label}-${process.pid}-${++counter}`);
      sh('ip', ['netns', 'add', ns.name]);
      steps.push(() => sh('ip', ['netns', 'del', ns.name]));
      ns.ip('link', 'set', 'lo', 'up');
      return ns;
    },
    /** A fresh directory under /tmp, removed after the case. */
    tmpdir(label = 'dir') {
      const dir = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', `lab-${label}-`));
      steps.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    /** Runs `fn` after the case (before what was made earlier is removed). */
    defer(fn) {
      steps.push(fn);
    },
    async undo() {
      const errors = [];
      while (steps.length) {
        try {
          await steps.pop()();
        } catch (e) {
          errors.push(e instanceof Error ? e.message : String(e));
        }
      }
      return errors;
    },
  };
}
