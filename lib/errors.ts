/** CNI well-known error codes (SPEC.md §5 and pkg/types/types.go). */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IOFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  InvalidNetns: 8,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  LimitedConnectivity: 51,
  /** Our own codes start at 100. */
  AddressExhausted: 100,
  AddressConflict: 101,
  DuplicateAllocation: 102,
  AllocationMissing: 103,
  LinkFailure: 110,
  DelegateFailure: 120,
  NftablesFailure: 130,
  /** A host port another container has mapped already. */
  PortInUse: 131,
  /** iptables (the firewall plugin's FORWARD rules) refused or failed. */
  FirewallFailure: 132,
  CheckFailed: 140,
  /** The DNS server a plugin runs (dnsname's dnsmasq) failed to start. */
  DnsServerFailure: 150,
  /** A DHCP server refused or answered what the dhcp IPAM cannot use (NAK, a lease without a subnet mask). */
  DhcpFailure: 160,
  Internal: 999,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The only error type that lib/skel serialises as-is; anything else is reported as a bug (999). */
export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details = '',
  ) {
    super(msg);
    this.name = 'CniError';
  }
}

/** A config field with a bad value: code 7, the message names the field as the user wrote it. */
export const invalidField = (field: string, why: string): CniError => new CniError(ErrorCode.InvalidNetworkConfig, `invalid field "${field}": ${why}`);

/** A kernel rejection from rtnetlink or a syscall, carrying the positive errno. */
export class NetlinkError extends Error {
  constructor(
    readonly errno: number,
    readonly operation: string,
  ) {
    super(`${operation}: ${errnoName(errno)}`);
    this.name = 'NetlinkError';
  }
}

export class SyscallError extends Error {
  constructor(
    readonly errno: number,
    readonly syscall: string,
    readonly target: string,
  ) {
    super(`${syscall} ${JSON.stringify(target)}: ${errnoName(errno)}`);
    this.name = 'SyscallError';
  }
}

export class NetnsNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`network namespace ${JSON.stringify(path)} does not exist`);
    this.name = 'NetnsNotFoundError';
  }
}

export class NotANetnsError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${JSON.stringify(path)} is not a network namespace: ${reason}`);
    this.name = 'NotANetnsError';
  }
}

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly waitedMs: number,
  ) {
    super(`timed out after ${waitedMs} ms waiting for lock ${JSON.stringify(path)}`);
    this.name = 'LockTimeoutError';
  }
}

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  EWOULDBLOCK: 11,
  ENOTSUP: 95,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNREFUSED: 111,
} as const;

const errnoNames: Record<number, string> = Object.fromEntries(Object.entries(Errno).map(([name, value]) => [value, name]));

export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`;
}

/** Node fs errors carry the errno as a negative number and a string code. */
export function isNodeErrorCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** nftables refused a transaction or a listing; the message is nft's own. */
export class NftError extends Error {
  constructor(readonly nftMessage: string) {
    // nft echoes the whole input after the error line; keep the part that says what went wrong
    super(`nftables: ${nftMessage.split('\n')[0].slice(0, 300)}`);
    this.name = 'NftError';
  }
}
