import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PluginMain } from '../lib/skel/define';
import { PLUGINS } from '../scripts/plugins.mjs';

describe('plugin definitions', () => {
  it.each(PLUGINS.filter((p) => p.kind === 'plugin').map((p) => [p.name, p.main]))('%s: its main.ts defines the plugin scripts/plugins.mjs names', async (name, main) => {
    const module = (await import(join(__dirname, '..', main))) as { main: PluginMain };
    expect(module.main.pluginName).toBe(name);
  });
});
