import { CniError, ErrorCode, invalidField } from '../../lib/errors';
import { assertWritableDirectory } from '../../lib/fs';
import { log } from '../../lib/log';
import { withContainerLink } from '../../lib/iface/container-link';
import { linkByName } from '../../lib/netlink';
import { netnsExists, withNetns } from '../../lib/netns';
import { requirePrevResult, type CmdArgs, type DelArgs } from '../../lib/skel';
import { readSysctl, writeSysctl } from '../../lib/sysctl';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { allowlistPath, assertAllowed } from './allowlist';
import { applyAttributes, currentAttributes, differences } from './attributes';
import { forgetAttributes, loadAttributes, saveAttributes, type SavedAttributes } from './backup';
import { dataDirOf, parseConfig, type TuningConfig } from './config';

const wantedAttributes = (conf: TuningConfig): SavedAttributes => ({ mac: conf.mac, mtu: conf.mtu, promisc: conf.promisc, allmulti: conf.allmulti, txQLen: conf.txQLen });

/** Sets the sysctls and attributes, saving the attributes' old values first; returns prevResult with the new MAC. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  assertAllowed(
    conf.sysctls.map((s) => s.key),
    allowlistPath(cmd.env),
  );
  const prev = requirePrevResult(cmd, 'tuning');
  const wanted = wantedAttributes(conf);
  await withContainerLink(cmd, (sock, link) =>
    new UndoStack().run(async (undo) => {
      withNetns(cmd.netns, () => {
        for (const s of conf.sysctls) {
          if (!writeSysctl(s.segments, s.value)) throw invalidField(`sysctl[${JSON.stringify(s.key)}]`, `no such sysctl in the container's namespace`);
        }
      });
      const original = currentAttributes(link, wanted);
      // a repeated ADD keeps the first backup: it holds the values from before any tuning
      if (Object.keys(original).length && !loadAttributes(conf.dataDir, cmd.containerId, cmd.ifname)) {
        saveAttributes(conf.dataDir, cmd.containerId, cmd.ifname, original);
        undo.push('attribute backup', () => forgetAttributes(conf.dataDir, cmd.containerId, cmd.ifname));
      }
      undo.push('interface attributes', async () => applyAttributes(sock, (await linkByName(sock, cmd.ifname)) ?? link, original));
      await applyAttributes(sock, link, wanted);
    }),
  );
  if (!conf.mac) return prev;
  return {
    ...prev,
    interfaces: prev.interfaces?.map((i) => (i.name === cmd.ifname && i.sandbox === cmd.netns ? { ...i, mac: conf.mac } : i)),
  };
}

/**
 * Restores what ADD saved; always succeeds, as the reference does (failures are logged). Reads
 * only dataDir, so a config ADD refused (a sysctl outside net.*) does not stop it.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const dataDir = dataDirOf(cmd);
  const saved = loadAttributes(dataDir, cmd.containerId, cmd.ifname);
  if (!saved) return forgetAttributes(dataDir, cmd.containerId, cmd.ifname);
  try {
    if (netnsExists(cmd.netns)) await withContainerLink(cmd, (sock, link) => applyAttributes(sock, link, saved));
  } catch (err) {
    log.warn('DEL: could not restore the interface attributes', { error: (err as Error).message });
  }
  forgetAttributes(dataDir, cmd.containerId, cmd.ifname);
}

export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  requirePrevResult(cmd, 'tuning');
  const wrong = await withContainerLink(cmd, async (_sock, link) => differences(link, wantedAttributes(conf)));
  withNetns(cmd.netns, () => {
    for (const s of conf.sysctls) {
      const value = readSysctl(s.segments);
      if (value !== s.value) wrong.push(`sysctl ${s.key} is ${value ?? 'missing'}, expected ${s.value}`);
    }
  });
  if (wrong.length) throw new CniError(ErrorCode.CheckFailed, `${cmd.ifname}: ${wrong.join('; ')}`);
}

/** Ready when the backup directory is writable (ADD saves the interface's old attributes there). */
export async function status(cmd: CmdArgs): Promise<void> {
  assertWritableDirectory(dataDirOf(cmd), 'tuning dataDir');
}
