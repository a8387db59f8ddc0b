import { describe, expect, it } from 'vitest';
import { FakeNftRunner } from '../../test/helpers/fake-nft-runner';
import { NftError } from '../errors';
import { NftSet } from './set';

const pairs = new NftSet({ family: 'inet', kind: 'set', name: 'pairs', prefixFields: [1] });
const verdicts = new NftSet({ family: 'inet', kind: 'map', name: 'verdicts' });
const ports = new NftSet({ family: 'bridge', kind: 'map', name: 'ports' });

describe('NftSet: one key tuple, every dialect', () => {
  it('a prefix field is a prefix object in JSON, as given in text, and a plain address in a listing when full-length', () => {
    const el = pairs.element(['10.0.0.5', '10.0.0.0/16']);
    expect(el.deleteCommand()).toEqual({
      delete: { element: { family: 'inet', table: 'cni_ts', name: 'pairs', elem: [{ concat: ['10.0.0.5', { prefix: { addr: '10.0.0.0', len: 16 } }] }] } },
    });
    expect(el.addLine()).toBe('add element inet cni_ts pairs { 10.0.0.5 . 10.0.0.0/16 }');
    expect(el.listedKey).toBe('10.0.0.5 . 10.0.0.0/16');
    expect(pairs.element(['fd00::5', 'fd00::5/128']).listedKey).toBe('fd00::5 . fd00::5');
  });

  it('a map element carries its data when added, and only its key otherwise', () => {
    const el = verdicts.element(['10.0.0.5'], { jump: 'chain-a' });
    expect(el.addCommand()).toEqual({ add: { element: { family: 'inet', table: 'cni_ts', name: 'verdicts', elem: [['10.0.0.5', { jump: { target: 'chain-a' } }]] } } });
    expect(el.deleteCommand()).toEqual({ delete: { element: { family: 'inet', table: 'cni_ts', name: 'verdicts', elem: ['10.0.0.5'] } } });
    const port = ports.element(['tcp', 8080], ['10.0.0.5', 80]);
    expect(port.addLine()).toBe('add element bridge cni_ts ports { tcp . 8080 : 10.0.0.5 . 80 }');
    expect(port.deleteLine()).toBe('delete element bridge cni_ts ports { tcp . 8080 }');
    expect(port.getLine()).toBe('get element bridge cni_ts ports { tcp . 8080 }');
    expect(port.describe()).toBe('ports { tcp . 8080 }');
  });

  it('reads its keys back from a listing as listedKey spells them; a missing set has none', () => {
    const nft = new FakeNftRunner();
    nft.listings['list set inet cni_ts pairs'] = [{ set: { elem: [{ concat: ['10.0.0.5', { prefix: { addr: '10.0.0.0', len: 16 } }] }, { concat: ['10.0.0.6', '10.0.0.6'] }] } }];
    nft.listings['list map bridge cni_ts ports'] = [{ map: { elem: [[{ concat: ['tcp', 8080] }, { concat: ['10.0.0.5', 80] }]] } }];
    expect(pairs.listedKeys(nft)).toEqual([pairs.element(['10.0.0.5', '10.0.0.0/16']).listedKey, pairs.element(['10.0.0.6', '10.0.0.6/32']).listedKey]);
    expect(ports.listedKeys(nft)).toEqual([ports.element(['tcp', 8080]).listedKey]);
    nft.list = () => {
      throw new NftError('No such file or directory');
    };
    expect(verdicts.listedKeys(nft)).toEqual([]);
  });
});
