/** Local transport: child processes on this machine, argv passed without a shell. */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { CommandAbortedError, CommandTimeoutError, TransportError } from './errors';
import { OutputTail } from './output';
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, type ExecOptions, type ExecResult, type Transport } from './types';

export class LocalTransport implements Transport {
  readonly description = 'local';

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = argv;
    if (!file) return Promise.reject(new TypeError('empty command'));
    if (options.signal?.aborted) return Promise.reject(new CommandAbortedError(`aborted before start: ${argv.join(' ')}`));
    const started = performance.now();
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new OutputTail(max);
    const stderr = new OutputTail(max);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let failure: Error | undefined;
      let killer: NodeJS.Timeout | undefined;
      const stop = (err: Error) => {
        failure ??= err;
        child.kill('SIGTERM');
        // A child that ignores SIGTERM must not outlive its timeout by much.
        killer ??= setTimeout(() => child.kill('SIGKILL'), 2_000);
      };
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => stop(new CommandTimeoutError(`timed out after ${timeoutMs} ms: ${argv.join(' ')}`)), timeoutMs);
      const onAbort = () => stop(new CommandAbortedError(`aborted: ${argv.join(' ')}`));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        options.onOutput?.(chunk.toString('utf8'), 'stdout');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        options.onOutput?.(chunk.toString('utf8'), 'stderr');
      });
      child.on('error', (err) => {
        failure ??= new TransportError(`cannot run ${file}: ${err.message}`, { cause: err });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(killer);
        options.signal?.removeEventListener('abort', onAbort);
        if (failure) return reject(failure);
        resolve({
          argv,
          // As a shell reports it: 128 + the signal's number.
          code: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 255),
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.truncated || stderr.truncated,
          durationMs: performance.now() - started,
        });
      });
    });
  }

  async close(): Promise<void> {}
}
