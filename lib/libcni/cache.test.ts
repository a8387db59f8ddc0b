import { mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedAttachments, readCache, writeCache, type CachedAttachment } from './cache';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cnit-cache-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (containerId: string): CachedAttachment => ({ kind: 'cniCacheV1', containerId, config: '{}', ifName: 'eth0', networkName: 'n1' });

describe('libcni result cache', () => {
  it('is written without a temporary left beside it', () => {
    writeCache(dir, entry('a'));
    expect(readdirSync(join(dir, 'results'))).toEqual(['n1-a-eth0']);
    expect(readCache(dir, 'n1', 'a', 'eth0')).toEqual(entry('a'));
  });

  it('a cache file emptied by a power cut counts as no cache, for DEL and for GC', () => {
    writeCache(dir, entry('a'));
    writeCache(dir, entry('b'));
    truncateSync(join(dir, 'results', 'n1-a-eth0'), 0);
    expect(readCache(dir, 'n1', 'a', 'eth0')).toBeUndefined();
    expect(cachedAttachments(dir, 'n1').map((e) => e.containerId)).toEqual(['b']);
  });
});
