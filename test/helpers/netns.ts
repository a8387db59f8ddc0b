import { execFileSync } from 'node:child_process';

let counter = 0;
const live = new Set<string>();
const beforeDelete = new Map<string, Array<() => void>>();

/**
 * Runs `fn` just before netns `name` is deleted by this process (a process that holds it open
 * must go first); the latest registered runs first.
 */
export function onNetnsDelete(name: string, fn: () => void): void {
  beforeDelete.set(name, [fn, ...(beforeDelete.get(name) ?? [])]);
}

function runBeforeDelete(name: string): void {
  const fns = beforeDelete.get(name) ?? [];
  beforeDelete.delete(name);
  for (const fn of fns) fn();
}

// Last line of defence: a crashed test run still removes the namespaces it made.
process.on('exit', () => {
  for (const name of live) {
    runBeforeDelete(name);
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

/** A throw-away network namespace under /run/netns, unique to this process. */
export class TestNetns {
  private constructor(readonly name: string) {}

  static create(label = 'ns'): TestNetns {
    const name = `cnit-${label}-${process.pid}-${++counter}`;
    execFileSync('ip', ['netns', 'add', name]);
    live.add(name);
    return new TestNetns(name);
  }

  /**
   * A name under /run/netns for the network namespace process `pid` is in (one a runtime made, as
   * containerd does for a pod): `ip netns del` in destroy() removes only the name.
   */
  static of(pid: number, label = 'pod'): TestNetns {
    const name = `cnit-${label}-${process.pid}-${++counter}`;
    execFileSync('ip', ['netns', 'attach', name, String(pid)]);
    live.add(name);
    return new TestNetns(name);
  }

  get path(): string {
    return `/run/netns/${this.name}`;
  }

  /** Runs a command inside the namespace and returns its stdout. */
  exec(command: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, command, ...args], { encoding: 'utf8' });
  }

  /** `ip -j` output parsed, run inside the namespace. */
  ipJson<T = unknown>(...args: string[]): T {
    return JSON.parse(execFileSync('ip', ['-n', this.name, '-j', ...args], { encoding: 'utf8' }) || '[]') as T;
  }

  destroy(): void {
    if (!live.has(this.name)) return;
    runBeforeDelete(this.name);
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } finally {
      live.delete(this.name);
    }
  }
}

/** Namespaces made through `make` are removed after each test, pass or fail. */
export function netnsPool(): { make(label?: string): TestNetns; of(pid: number, label?: string): TestNetns; destroyAll(): void } {
  const made: TestNetns[] = [];
  return {
    make(label) {
      const ns = TestNetns.create(label);
      made.push(ns);
      return ns;
    },
    of(pid, label) {
      const ns = TestNetns.of(pid, label);
      made.push(ns);
      return ns;
    },
    destroyAll() {
      while (made.length) made.pop()!.destroy();
    },
  };
}
