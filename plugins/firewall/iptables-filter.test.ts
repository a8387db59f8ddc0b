import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NftRunner } from '../../lib/nft';
import { iptablesFilter, iptablesVariant } from './iptables-filter';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cnit-iptf-'));
  dirs.push(d);
  return d;
};

/** A PATH directory whose iptables-save links to an executable called `multi`, as Debian's alternatives do. */
function pathWith(multi: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, multi), '#!/bin/sh\n');
  chmodSync(join(dir, multi), 0o755);
  symlinkSync(join(dir, multi), join(dir, 'iptables-save'));
  return dir;
}

/** nftables holding these tables (family, name), counting the listings asked for. */
function nftWith(tables: [string, string][]) {
  const asked: string[] = [];
  const runner = {
    list(what: string) {
      asked.push(what);
      const family = what.split(' ')[2];
      return [{ metainfo: {} }, ...tables.filter(([f]) => f === family).map(([f, name]) => ({ table: { family: f, name, handle: 1 } }))];
    },
  } as unknown as NftRunner;
  return { asked, nft: runner };
}

describe('iptablesVariant', () => {
  it('follows iptables-save on PATH to the multi-call binary it runs', () => {
    expect(iptablesVariant(`/nonexistent:${pathWith('xtables-nft-multi')}`)).toBe('nft');
    expect(iptablesVariant(pathWith('xtables-legacy-multi'))).toBe('legacy');
    expect(iptablesVariant(tempDir())).toBe('none');
    expect(iptablesVariant(undefined)).toBe('none');
  });
});

describe('iptablesFilter', () => {
  it('nft: a filter table of the family in nftables, listed once per family', () => {
    const { asked, nft } = nftWith([
      ['ip', 'filter'],
      ['ip6', 'nat'],
      ['inet', 'filter'],
    ]);
    const host = iptablesFilter('nft', nft);
    expect(host.iptablesForward(4)).toBe(true);
    expect(host.iptablesForward(6)).toBe(false);
    expect(host.iptablesForward(4)).toBe(true);
    expect(asked).toEqual(['list tables ip', 'list tables ip6']);
  });

  it('legacy: the filter table among the kernel loaded tables of this namespace', () => {
    const procNet = tempDir();
    writeFileSync(join(procNet, 'ip_tables_names'), 'nat\nfilter\n');
    writeFileSync(join(procNet, 'ip6_tables_names'), 'nat\n');
    const { asked, nft } = nftWith([['ip6', 'filter']]);
    const host = iptablesFilter('legacy', nft, procNet);
    expect(host.iptablesForward(4)).toBe(true);
    expect(host.iptablesForward(6)).toBe(false);
    expect(asked).toEqual([]);
    expect(iptablesFilter('legacy', nft, tempDir()).iptablesForward(4)).toBe(false);
  });

  it('none: no iptables, no rules, nothing asked', () => {
    const { asked, nft } = nftWith([['ip', 'filter']]);
    expect(iptablesFilter('none', nft).iptablesForward(4)).toBe(false);
    expect(asked).toEqual([]);
  });
});
