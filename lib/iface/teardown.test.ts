import { describe, expect, it } from 'vitest';
import { CniError, ErrorCode, NftError } from '../errors';
import { teardown } from './teardown';

describe('teardown', () => {
  it('runs every step and reports the failures with the first failed step’s code', async () => {
    const ran: string[] = [];
    const failing = teardown([
      ['first', () => ran.push('first')],
      [
        'release addresses (IPAM)',
        () => {
          ran.push('ipam');
          throw new CniError(ErrorCode.DelegateFailure, 'store locked');
        },
      ],
      [
        'remove elements',
        () => {
          ran.push('nft');
          throw new NftError('Error: No such file or directory');
        },
      ],
      ['last', () => ran.push('last')],
    ]);
    await expect(failing).rejects.toMatchObject({
      code: ErrorCode.DelegateFailure,
      message: expect.stringMatching(/^DEL finished with errors: release addresses \(IPAM\): store locked; remove elements: .*No such file/),
    });
    expect(ran).toEqual(['first', 'ipam', 'nft', 'last']);
  });

  it('gives a lower layer’s error the code its translation gives', async () => {
    const nft = () => {
      throw new NftError('Error: Operation not permitted');
    };
    await expect(teardown([['remove port mappings', nft]])).rejects.toMatchObject({ code: ErrorCode.NftablesFailure });
  });

  it('succeeds when every step does', async () => {
    await expect(teardown([['a', () => undefined]])).resolves.toBeUndefined();
  });
});
