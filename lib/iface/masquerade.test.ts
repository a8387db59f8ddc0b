import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeNftRunner } from '../../test/helpers/fake-nft-runner';
import { AttachmentState } from '../state/attachment-state';
import { parsePrefix } from '../ip';
import { addressingOf } from './addressing';
import { masqEntries, newMasquerade, type Masquerade } from './masquerade';
import { addTransaction, chainName, type MasqEntry } from './masquerade-rules';

const a = { network: 'n1', containerId: 'a', ifname: 'eth0' };
const b = { network: 'n1', containerId: 'b', ifname: 'eth0' };
const v4: MasqEntry = { family: 4, ip: '10.1.0.2', subnet: '10.1.0.0/16' };
const v6: MasqEntry = { family: 6, ip: 'fd00::2', subnet: 'fd00::/64' };

describe('masquerade rules (golden)', () => {
  it('builds one transaction: table, maps, vmap postrouting, one chain per subnet, one element per address', () => {
    const tx = addTransaction([v4, v6]);
    expect(tx[0]).toMatchObject({ add: { table: { family: 'inet', name: 'cni_ts' } } });
    expect(tx).toContainEqual({ add: { chain: { family: 'inet', table: 'cni_ts', name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } });
    expect(tx).toContainEqual({
      add: { rule: { family: 'inet', table: 'cni_ts', chain: 'postrouting', expr: [{ vmap: { key: { payload: { protocol: 'ip', field: 'saddr' } }, data: '@masq4' } }] } },
    });
    expect(tx).toContainEqual({
      add: { element: { family: 'inet', table: 'cni_ts', name: 'masq4', elem: [['10.1.0.2', { jump: { target: 'masq4-10_1_0_0_16' } }]] } },
    });
    expect(tx).toContainEqual({
      add: { rule: { family: 'inet', table: 'cni_ts', chain: 'masq6-fd00___64', expr: [{ masquerade: null }] } },
    });
    // the per-subnet chain returns for its own subnet and multicast before masquerading
    const chainRules = tx.filter((c) => (c.add as { rule?: { chain: string } })?.rule?.chain === chainName(v4));
    expect(chainRules).toHaveLength(3);
  });

  it('nonMasqueradeCIDRs: one more return rule (an anonymous set of the prefixes) in a chain of its own, named after the list', () => {
    const except = { ...v4, except: ['10.0.0.0/8', '192.168.0.0/16'] };
    const tx = addTransaction([except]);
    expect(chainName(except)).toMatch(/^masq4-10_1_0_0_16-x[0-9a-f]{8}$/);
    expect(chainName(except)).not.toBe(chainName(v4));
    expect(chainName({ ...v4, except: [] })).toBe(chainName(v4));
    expect(tx).toContainEqual({
      add: {
        rule: {
          family: 'inet',
          table: 'cni_ts',
          chain: chainName(except),
          expr: [
            {
              match: {
                op: '==',
                left: { payload: { protocol: 'ip', field: 'daddr' } },
                right: {
                  set: [{ prefix: { addr: '10.0.0.0', len: 8 } }, { prefix: { addr: '192.168.0.0', len: 16 } }],
                },
              },
            },
            { return: null },
          ],
        },
      },
    });
    const rules = tx.filter((c) => (c.add as { rule?: { chain: string } })?.rule?.chain === chainName(except));
    expect(rules).toHaveLength(4);
    expect(rules.at(-1)).toMatchObject({ add: { rule: { expr: [{ masquerade: null }] } } });
  });

  it('masqEntries keeps only the exceptions of each address family, in network form and sorted', () => {
    const addressing = addressingOf([{ address: '10.1.0.2/16' }, { address: 'fd00::2/64' }]);
    const except = ['fd10::/48', '10.244.3.7/16', '10.0.0.0/8'].map((c) => parsePrefix(c)!);
    expect(masqEntries(addressing, except)).toEqual([
      { family: 4, ip: '10.1.0.2', subnet: '10.1.0.0/16', except: ['10.0.0.0/8', '10.244.0.0/16'] },
      { family: 6, ip: 'fd00::2', subnet: 'fd00::/64', except: ['fd10::/48'] },
    ]);
    expect(masqEntries(addressing)).toEqual([
      { family: 4, ip: '10.1.0.2', subnet: '10.1.0.0/16' },
      { family: 6, ip: 'fd00::2', subnet: 'fd00::/64' },
    ]);
  });

  it('does not grow with the number of containers already present: each ADD carries only its own elements', () => {
    const one = addTransaction([v4]);
    const other = addTransaction([{ ...v4, ip: '10.1.200.9' }]);
    expect(other).toHaveLength(one.length);
  });
});

describe('Masquerade ownership (fake nft runner, real state files)', () => {
  let dir: string;
  let nft: FakeNftRunner;
  let masq: Masquerade;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cnit-masq-'));
    nft = new FakeNftRunner();
    masq = newMasquerade(nft, new AttachmentState<MasqEntry[]>(dir, 'ipmasq'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const deletes = () => nft.transactions.flat().filter((c) => (c.delete as { element?: unknown } | undefined)?.element);

  it('removes exactly what the attachment added, once', () => {
    masq.add(a, [v4, v6]);
    masq.remove(a);
    expect(deletes()).toHaveLength(2);
    masq.remove(a);
    expect(deletes()).toHaveLength(2);
  });

  it("asks for its subnet's chain to go in the same transaction as its elements (nftables refuses while others jump to it)", () => {
    masq.add(a, [v4, v6]);
    masq.remove(a);
    expect(nft.transactions.at(-1)).toEqual([
      { delete: { element: { family: 'inet', table: 'cni_ts', name: 'masq4', elem: ['10.1.0.2'] } } },
      { delete: { element: { family: 'inet', table: 'cni_ts', name: 'masq6', elem: ['fd00::2'] } } },
      { delete: { chain: { family: 'inet', table: 'cni_ts', name: chainName(v4) } } },
      { delete: { chain: { family: 'inet', table: 'cni_ts', name: chainName(v6) } } },
    ]);
  });

  it('skips an element a newer attachment took over (address reuse)', () => {
    masq.add(a, [v4]);
    masq.add(b, [v4]);
    masq.remove(a);
    expect(deletes()).toHaveLength(0);
    masq.remove(b);
    expect(deletes()).toHaveLength(1);
  });

  it('keeps the record when nft fails, so a retried DEL still knows what to remove', () => {
    masq.add(a, [v4]);
    nft.failNext = true;
    expect(() => masq.remove(a)).toThrow();
    expect(masq.recorded(a)).toEqual([v4]);
    masq.remove(a);
    expect(deletes()).toHaveLength(1);
    expect(masq.recorded(a)).toBeUndefined();
  });
});
