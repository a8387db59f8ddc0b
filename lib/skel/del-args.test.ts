import { describe, expect, it } from 'vitest';
import type { CmdArgs, DelArgs } from './cmd-args';
import { runPlugin } from './run';

const strictParser = (cmd: CmdArgs): string => cmd.config.name;

describe('DelArgs', () => {
  it('is what del receives, and a strict parser taking CmdArgs refuses it at compile time', async () => {
    let received: DelArgs | undefined;
    const io = {
      env: { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/x', CNI_NETNS: '/var/run/netns/gone-for-good' },
      readStdin: () => Buffer.from('{"cniVersion":"1.1.0","name":"n","type":"t","ipam":"not an object","prevResult":{"ips":"bad"}}'),
      writeStdout: () => undefined,
      writeStderr: () => undefined,
    };
    const verbs = {
      add: async () => ({}),
      del: async (cmd: DelArgs) => {
        received = cmd;
        // @ts-expect-error DEL's config is the lenient one: a plugin's strict parseConfig must not take it
        strictParser(cmd);
      },
      check: async () => undefined,
    };
    expect(await runPlugin(verbs, { name: 't', version: '0' }, io)).toBe(0);
    expect(received?.command).toBe('DEL');
    expect(received?.config).not.toHaveProperty('ipam');
    expect(received?.prevResult).toBeUndefined();
  });
});
