import { parseCniArgs, type CmdArgs } from '../../lib/skel';

/** A CmdArgs as skel would build it, for unit tests of a plugin's config parsing. */
export function cmdArgs(config: Record<string, unknown>, overrides: Partial<CmdArgs> & { cniArgs?: string } = {}): CmdArgs {
  const { cniArgs, ...rest } = overrides;
  const full = { cniVersion: '1.0.0', name: 'net1', ...config } as CmdArgs['config'];
  return {
    command: 'ADD',
    containerId: 'c1',
    netns: '/run/netns/x',
    ifname: 'eth0',
    args: parseCniArgs(cniArgs ?? ''),
    path: [],
    stdin: Buffer.from(JSON.stringify(full)),
    config: full,
    cniVersion: full.cniVersion,
    env: {},
    ...rest,
  };
}

/** The CNI error a config parse throws, as { code, msg }; undefined when it throws nothing. */
export function errorOf(fn: () => unknown): { code: number; msg: string } | undefined {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code: number }).code, msg: (err as Error).message };
  }
  return undefined;
}
