import { appendFileSync } from 'node:fs';

/** Fields that identify the invocation, added to every log line. */
export interface LogContext {
  plugin: string;
  command?: string;
  containerId?: string;
  ifname?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const levelRank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * JSON lines on stderr (never stdout: it carries the protocol), and to a file when
 * CNI_LOG_FILE names one. CNI_LOG_LEVEL filters (default "warn"; failures are logged at "info").
 */
export class Logger {
  private readonly minRank: number;

  constructor(
    private context: LogContext,
    private readonly writeStderr: (line: string) => void = (line) => process.stderr.write(line),
    private readonly file = process.env.CNI_LOG_FILE,
    level = (process.env.CNI_LOG_LEVEL as LogLevel | undefined) ?? 'warn',
  ) {
    this.minRank = levelRank[level] ?? levelRank.warn;
  }

  with(extra: Partial<LogContext>): void {
    this.context = { ...this.context, ...extra };
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (levelRank[level] < this.minRank) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, ...this.context, msg, ...fields }) + '\n';
    this.writeStderr(line);
    if (this.file) {
      try {
        appendFileSync(this.file, line);
      } catch {
        // a broken log file must never fail the plugin
      }
    }
  }
}

export let log = new Logger({ plugin: 'cni' });

export function setLogger(logger: Logger): void {
  log = logger;
}
