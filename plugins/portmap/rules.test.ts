import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceTakenError } from '../../lib/nft';
import { FakeNftRunner } from '../../test/helpers/fake-nft-runner';
import { AttachmentState } from '../../lib/state/attachment-state';
import type { DnatEntry, PortmapEntry, SnatEntry } from './entries';
import { isExclusive, newPortMaps } from './port-maps';
import { conditionsGroups, conditionsScript, conditionsTeardown, elementOf, structureScript } from './rules';

const dnat: DnatEntry = { kind: 'dnat', family: 4, protocol: 'tcp', hostPort: 8080, containerIP: '10.88.0.5', containerPort: 80 };
const dnatHostIP: DnatEntry = { ...dnat, family: 6, hostIP: '2001:db8::1', containerIP: 'fd00::5' };
const snat: SnatEntry = { kind: 'snat', family: 4, containerIP: '10.88.0.5', source: '10.88.0.0/16' };

describe('portmap rules (golden)', () => {
  it("conditions: maps and a chain of their own, gated by them, entered from base chains beside portmap_dnat's", () => {
    const gated: DnatEntry = { ...dnat, conditions: 'iifname "eth0"' };
    const groups = conditionsGroups([dnat, gated, { ...gated, hostPort: 9090 }, snat]);
    expect(groups).toEqual([{ family: 4, conditions: 'iifname "eth0"' }]);
    const script = conditionsScript(groups[0]);
    const id = /portmap4_c([0-9a-f]{8})/.exec(script.join('\n'))![1];
    expect(elementOf(gated).set.name).toBe(`portmap4_c${id}`);
    expect(elementOf({ ...gated, hostIP: '10.0.0.1' }).set.name).toBe(`portmap4_hostip_c${id}`);
    expect(script).toContain(`add rule inet cni_ts portmap4_c${id}_dnat ip daddr @portmap4_exclude return`);
    expect(script).toContain(`add rule inet cni_ts portmap4_c${id}_dnat meta nfproto ipv4 iifname "eth0" dnat ip to meta l4proto . th dport map @portmap4_c${id}`);
    expect(script).toContain(`add chain inet cni_ts portmap4_c${id}_prerouting { type nat hook prerouting priority -100 ; policy accept ; }`);
    expect(script).toContain(`add rule inet cni_ts portmap4_c${id}_output meta nfproto ipv4 fib daddr type local jump portmap4_c${id}_dnat`);
    // the base chains go before the chain they jump to, the chain before the maps its rules use
    expect(conditionsTeardown(groups[0]).map((c) => JSON.stringify(Object.values(c.delete as object)[0].name ?? ''))).toEqual(
      [`portmap4_c${id}_prerouting`, `portmap4_c${id}_output`, `portmap4_c${id}_dnat`, `portmap4_c${id}`, `portmap4_hostip_c${id}`].map((n) => JSON.stringify(n)),
    );
  });

  it('one DNAT chain of four map lookups, entered only for local destinations at dstnat priority', () => {
    const script = structureScript();
    expect(script).toContain('add rule inet cni_ts portmap_dnat meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @portmap4_hostip');
    expect(script).toContain('add rule inet cni_ts portmap_dnat meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @portmap6');
    expect(script).toContain('add chain inet cni_ts portmap_prerouting { type nat hook prerouting priority -100 ; policy accept ; }');
    expect(script).toContain('add rule inet cni_ts portmap_output fib daddr type local jump portmap_dnat');
    expect(script).toContain('add rule inet cni_ts portmap_postrouting ct status dnat ip daddr . ip saddr @portmap4_masq masquerade');
    expect(script).toContain('add rule inet cni_ts localnet_guard iifname != "lo" ip daddr 127.0.0.0/8 drop');
    // the administrator's exclusions (kube-proxy IPVS ClusterIPs) come before any mapping
    const dnatRules = script.filter((l) => l.startsWith('add rule inet cni_ts portmap_dnat'));
    expect(dnatRules[0]).toBe('add rule inet cni_ts portmap_dnat ip daddr @portmap4_exclude return');
    expect(dnatRules[3]).toBe('add rule inet cni_ts portmap_dnat ip6 daddr @portmap6_exclude return');
    expect(script.filter((l) => l.startsWith('add rule'))).toHaveLength(11);
  });

  it('one element per entry, keyed on what the packet carries', () => {
    expect(elementOf(dnat).addLine()).toBe('add element inet cni_ts portmap4 { tcp . 8080 : 10.88.0.5 . 80 }');
    expect(elementOf(dnatHostIP).addLine()).toBe('add element inet cni_ts portmap6_hostip { 2001:db8::1 . tcp . 8080 : fd00::5 . 80 }');
    expect(elementOf(snat).addLine()).toBe('add element inet cni_ts portmap4_masq { 10.88.0.5 . 10.88.0.0/16 }');
    expect(elementOf(dnatHostIP).deleteCommand()).toMatchObject({ delete: { element: { name: 'portmap6_hostip', elem: [{ concat: ['2001:db8::1', 'tcp', 8080] }] } } });
    expect(elementOf(dnatHostIP).listedKey).toBe('2001:db8::1 . tcp . 8080');
    expect(elementOf({ ...snat, source: '10.88.0.5/32' }).listedKey).toBe('10.88.0.5 . 10.88.0.5');
  });
});

describe('port maps with owners', () => {
  let dir: string;
  let nft: FakeNftRunner;
  const a = { network: 'n', containerId: 'a', ifname: 'eth0' };
  const b = { network: 'n', containerId: 'b', ifname: 'eth0' };
  const maps = () => newPortMaps(nft, new AttachmentState<PortmapEntry[]>(dir, 'portmap'));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cnit-pmunit-'));
    nft = new FakeNftRunner();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('ADD is one transaction whose size does not depend on how many mappings exist', () => {
    maps().add(a, [dnat, snat], isExclusive);
    for (let port = 1; port <= 50; port++) maps().add({ ...b, containerId: `c${port}` }, [{ ...dnat, hostPort: 10000 + port }], isExclusive);
    const sizes = nft.scripts.map((s) => s.split('\n').length);
    expect(nft.scripts).toHaveLength(51);
    expect(new Set(sizes.slice(1)).size).toBe(1);
  });

  it('refuses a host port owned by another attachment and takes over a masquerade pair', () => {
    maps().add(a, [dnat, snat], isExclusive);
    expect(() => maps().add(b, [dnat], isExclusive)).toThrow(ResourceTakenError);
    expect(maps().recorded(b)).toBeUndefined();
    maps().add(b, [{ ...dnat, hostPort: 9090 }, snat], isExclusive);
    nft.transactions.length = 0;
    maps().remove(a);
    // a's DEL deletes its own port and leaves the masquerade pair b took over
    expect(JSON.stringify(nft.transactions)).toContain('8080');
    expect(JSON.stringify(nft.transactions)).not.toContain('10.88.0.0');
  });

  it('a repeated ADD with fewer mappings drops the ones no longer wanted', () => {
    maps().add(a, [dnat, { ...dnat, hostPort: 9090 }], isExclusive);
    nft.transactions.length = 0;
    maps().add(a, [dnat], isExclusive);
    expect(JSON.stringify(nft.transactions)).toContain('9090');
    expect(JSON.stringify(nft.transactions)).not.toContain('8080');
  });
});
