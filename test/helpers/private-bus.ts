import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A D-Bus daemon of a test's own, standing in for the system bus; its socket is in the test's directory. */
export interface PrivateBus {
  /** For DBUS_SYSTEM_BUS_ADDRESS. */
  address: string;
  /** The daemon, leader of its own process group. */
  child: ChildProcess;
  stop(): void;
}

/** Root may own any name, call anything and see every signal (dbus-monitor eavesdrops). */
export async function startPrivateBus(dir: string): Promise<PrivateBus> {
  const socket = join(dir, 'system_bus_socket');
  const conf = join(dir, 'bus.conf');
  writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="root"/><allow own="*"/><allow send_type="signal"/><allow send_type="method_call"/><allow send_destination="*"/><allow receive_type="signal"/><allow receive_sender="*"/><allow eavesdrop="true"/></policy></busconfig>`,
  );
  const child = spawn('dbus-daemon', [`--config-file=${conf}`, '--nofork', '--print-address'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const stop = () => killGroup(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });
  return { address: `unix:path=${socket}`, child, stop };
}

/** SIGKILL to the process group `child` leads, if it still runs. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
