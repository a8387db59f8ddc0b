import { CniError, ErrorCode, NftError } from '../errors';
import { openNft } from './runner';
import { TABLE } from './table';

/** For STATUS: nftables answers (a missing table is fine: ADD creates it); otherwise error 50. */
export function assertNftUsable(): void {
  try {
    openNft().list(`list table ${TABLE.family} ${TABLE.name}`);
  } catch (err) {
    if (err instanceof NftError && /No such file or directory/.test(err.message)) return;
    throw new CniError(ErrorCode.PluginNotAvailable, `nftables is not usable: ${(err as Error).message}`);
  }
}
