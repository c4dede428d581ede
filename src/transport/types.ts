/** How a step reaches a host: one interface, over SSH or on this machine. */

export interface ExecOptions {
  /** Directory to run in (on the target host). */
  cwd?: string;
  /** Kill the command after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Abort the command: the channel or child process is closed. */
  signal?: AbortSignal;
  /** Keep at most this many bytes of each stream, the tail (default 1 MiB). */
  maxOutputBytes?: number;
  /** Called with every chunk of output, e.g. to heartbeat build progress. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface ExecResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
  /** True when a stream was longer than maxOutputBytes and only its tail is kept. */
  truncated: boolean;
  durationMs: number;
}

export interface Transport {
  /** For messages and logs: "ssh deploy@127.0.0.1:2222" or "local". */
  readonly description: string;
  /** Run argv; resolves with the exit code (non-zero does not reject). */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
