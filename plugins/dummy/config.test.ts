import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

describe('dummy parseConfig', () => {
  it('needs only IPAM', () => {
    expect(parseConfig(cmdArgs({ type: 'dummy', ipam: { type: 'static' } }))).toEqual({ cniVersion: '1.0.0', networkName: 'net1', ipamType: 'static' });
  });

  it('refuses a config without IPAM (code 7), as the reference', () => {
    for (const ipam of [undefined, {}, { type: '' }]) {
      expect(() => parseConfig(cmdArgs({ type: 'dummy', ipam }))).toThrow(
        expect.objectContaining({ code: 7, message: expect.stringContaining('invalid field "ipam": is required') }),
      );
    }
  });
});
