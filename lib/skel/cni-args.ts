import { CniError, ErrorCode } from '../errors';

/** CNI_ARGS ("K=V;K2=V2") as an ordered map. */
export type CniArgs = ReadonlyMap<string, string>;

export function parseCniArgs(text: string | undefined): CniArgs {
  const args = new Map<string, string>();
  if (!text) return args;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_ARGS pair ${JSON.stringify(pair)}: expected KEY=VALUE`);
    args.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return args;
}

/**
 * The Go plugins reject keys they do not know unless IgnoreUnknown=1|true is present
 * (pkg/types/args.go); runtimes such as containerd always send it.
 */
export function checkKnownArgs(args: CniArgs, known: readonly string[]): void {
  const ignore = (args.get('IgnoreUnknown') ?? '').toLowerCase();
  if (ignore === '1' || ignore === 'true') return;
  const unknown = [...args.keys()].filter((k) => k !== 'IgnoreUnknown' && !known.includes(k));
  if (unknown.length) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `unknown CNI_ARGS key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}: this plugin knows ${known.join(', ') || 'none'} (add IgnoreUnknown=1 to ignore others)`,
    );
  }
}
