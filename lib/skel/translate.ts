import { CniError, ErrorCode, LockTimeoutError, NetlinkError, NetnsNotFoundError, NftError, NotANetnsError, SyscallError } from '../errors';

/**
 * Maps the typed errors of the lower layers to CNI errors when a plugin did not translate them
 * itself. Anything unknown stays a bug (999).
 */
export function toCniError(err: unknown): { error: CniError; isBug: boolean } {
  if (err instanceof CniError) return { error: err, isBug: false };
  if (err instanceof LockTimeoutError) return { error: new CniError(ErrorCode.TryAgainLater, err.message), isBug: false };
  if (err instanceof NetnsNotFoundError || err instanceof NotANetnsError) {
    return { error: new CniError(ErrorCode.InvalidNetns, err.message), isBug: false };
  }
  if (err instanceof NetlinkError) return { error: new CniError(ErrorCode.LinkFailure, err.message), isBug: false };
  if (err instanceof NftError) return { error: new CniError(ErrorCode.NftablesFailure, err.message), isBug: false };
  if (err instanceof SyscallError) return { error: new CniError(ErrorCode.IOFailure, err.message), isBug: false };
  if (isSystemError(err)) return { error: new CniError(ErrorCode.IOFailure, err.message), isBug: false };
  const message = err instanceof Error ? err.message : String(err);
  return { error: new CniError(ErrorCode.Internal, `internal error: ${message}`), isBug: true };
}

/** A failed fs or other syscall from Node (EACCES, ENOSPC, EROFS...): an I/O failure, not a bug. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string' && typeof (err as NodeJS.ErrnoException).code === 'string';
}
