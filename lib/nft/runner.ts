import { childProcess } from '../start/builtins';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NftError } from '../errors';
import { loadKoffi } from '../start/native';

/** One nftables JSON command, e.g. {add: {table: {...}}}; a list of them is one atomic transaction. */
export type NftCommand = Record<string, unknown>;

/** Applies transactions and reads back (as JSON) objects of the suite's own table only. */
export interface NftRunner {
  readonly backend: string;
  apply(commands: NftCommand[]): void;
  /**
   * One transaction in nft's text syntax. For what nftables 1.0.6's JSON parser cannot express
   * (maps whose data is a concatenation, e.g. `ipv4_addr . inet_service`) or crashes on.
   */
  run(script: string): void;
  /** e.g. "list map inet cni_ts masq4"; returns the parsed `nftables` array. */
  list(what: string): unknown[];
  /** The same in nft's text syntax, which (unlike JSON output) shows every part of every rule. */
  listText(what: string): string;
}

const NFT_CTX_OUTPUT_JSON = 1 << 4;

interface LibNftables {
  ctx: unknown;
  run(ctx: unknown, text: string): number;
  output(ctx: unknown): string;
  error(ctx: unknown): string;
  setOutputFlags(ctx: unknown, flags: number): void;
}

let lib: LibNftables | null | undefined;

/** libnftables through koffi, created once per process; null when the library is not installed. */
function loadLibNftables(): LibNftables | null {
  if (lib !== undefined) return lib;
  try {
    const koffi = loadKoffi();
    const so = koffi.load('libnftables.so.1');
    const ctxNew = so.func('void *nft_ctx_new(uint32_t flags)');
    const bufferOutput = so.func('int nft_ctx_buffer_output(void *ctx)');
    const bufferError = so.func('int nft_ctx_buffer_error(void *ctx)');
    const getOutput = so.func('const char *nft_ctx_get_output_buffer(void *ctx)');
    const getError = so.func('const char *nft_ctx_get_error_buffer(void *ctx)');
    const runCmd = so.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)');
    const outputSetFlags = so.func('void nft_ctx_output_set_flags(void *ctx, uint32_t flags)');
    const ctx = ctxNew(0);
    bufferOutput(ctx);
    bufferError(ctx);
    lib = {
      ctx,
      run: (c, text) => runCmd(c, text) as number,
      output: (c) => (getOutput(c) as string | null) ?? '',
      error: (c) => (getError(c) as string | null) ?? '',
      setOutputFlags: (c, flags) => outputSetFlags(c, flags),
    };
  } catch {
    lib = null;
  }
  return lib;
}

/** In-process: one libnftables call per transaction, no `nft` process. */
class LibNftablesRunner implements NftRunner {
  readonly backend = 'libnftables';
  constructor(private readonly nft: LibNftables) {}

  apply(commands: NftCommand[]): void {
    if (commands.length === 0) return;
    // libnftables before 1.0.9 parses its input as JSON only while JSON output is on
    this.nft.setOutputFlags(this.nft.ctx, NFT_CTX_OUTPUT_JSON);
    if (this.nft.run(this.nft.ctx, JSON.stringify({ nftables: commands })) !== 0) throw new NftError(this.nft.error(this.nft.ctx).trim());
  }

  run(script: string): void {
    // text does not parse as JSON, so libnftables falls back to its text parser whatever the flags
    if (this.nft.run(this.nft.ctx, script) !== 0) throw new NftError(this.nft.error(this.nft.ctx).trim());
  }

  list(what: string): unknown[] {
    // a text command: JSON output on, but the input must not be taken for JSON
    this.nft.setOutputFlags(this.nft.ctx, NFT_CTX_OUTPUT_JSON);
    if (this.nft.run(this.nft.ctx, what) !== 0) throw new NftError(this.nft.error(this.nft.ctx).trim());
    return parseListing(this.nft.output(this.nft.ctx));
  }

  listText(what: string): string {
    this.nft.setOutputFlags(this.nft.ctx, 0);
    if (this.nft.run(this.nft.ctx, what) !== 0) throw new NftError(this.nft.error(this.nft.ctx).trim());
    return this.nft.output(this.nft.ctx);
  }
}

/** Fallback when libnftables is missing: the same JSON through `nft -j -f -`. */
class NftBinaryRunner implements NftRunner {
  readonly backend = 'nft binary';

  apply(commands: NftCommand[]): void {
    if (commands.length === 0) return;
    this.execFile(['-j'], JSON.stringify({ nftables: commands }));
  }

  run(script: string): void {
    this.execFile([], script);
  }

  list(what: string): unknown[] {
    return parseListing(this.exec(['-j', ...what.split(' ')]));
  }

  listText(what: string): string {
    return this.exec(what.split(' '));
  }

  /** `nft -f -` opens /dev/stdin, which fails (ENXIO) on the socket Node gives a child as stdin: use a file. */
  private execFile(args: string[], input: string): void {
    const dir = mkdtempSync(join(tmpdir(), 'cni-ts-nft-'));
    try {
      const file = join(dir, 'transaction');
      writeFileSync(file, input, { mode: 0o600 });
      this.exec([...args, '-f', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private exec(args: string[]): string {
    const r = childProcess().spawnSync('nft', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw new NftError(`cannot run nft: ${r.error.message}`);
    if (r.status !== 0) throw new NftError(r.stderr.trim());
    return r.stdout;
  }
}

function parseListing(text: string): unknown[] {
  if (!text.trim()) return [];
  return (JSON.parse(text) as { nftables?: unknown[] }).nftables ?? [];
}

/** The in-process runner when libnftables loads, else the nft binary (CNI_TS_NFT=binary forces it). */
function chooseRunner(): NftRunner {
  if (process.env.CNI_TS_NFT !== 'binary') {
    const nft = loadLibNftables();
    if (nft) return new LibNftablesRunner(nft);
  }
  return new NftBinaryRunner();
}

/** A runner that picks its backend on first use, so a DEL with nothing to remove never loads libnftables. */
export function openNft(): NftRunner {
  let runner: NftRunner | undefined;
  const get = () => (runner ??= chooseRunner());
  return {
    get backend() {
      return get().backend;
    },
    apply: (commands) => (commands.length ? get().apply(commands) : undefined),
    run: (script) => (script.trim() ? get().run(script) : undefined),
    list: (what) => get().list(what),
    listText: (what) => get().listText(what),
  };
}
