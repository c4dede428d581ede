/**
 * SSH transport: one reused connection per host, host key checked against the
 * pinned keys on every handshake, each command on its own channel with a
 * timeout, an AbortSignal and a cap on the output kept.
 */
import { NodeSSH } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import { shellJoin, shellQuote } from '../commands/quote';
import { CommandAbortedError, CommandTimeoutError, ConnectionError, HostKeyVerificationError } from './errors';
import { fingerprint, type PinnedKey } from './known-hosts';
import { OutputTail } from './output';
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, type ExecOptions, type ExecResult, type Transport } from './types';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** The private key itself (PEM/OpenSSH text), resolved by the worker; never from workflow input. */
  privateKey: string;
  /** Keys this host may present; empty means the host cannot be reached. */
  pinnedKeys: readonly PinnedKey[];
  connectTimeoutMs?: number;
}

export class SshTransport implements Transport {
  readonly description: string;
  private connecting: Promise<NodeSSH> | undefined;

  constructor(private readonly target: SshTarget) {
    this.description = `ssh ${target.username}@${target.host}:${target.port}`;
  }

  private connection(): Promise<NodeSSH> {
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async connect(): Promise<NodeSSH> {
    const { host, port, username, privateKey, pinnedKeys } = this.target;
    let presented: Buffer | undefined;
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host,
        port,
        username,
        privateKey,
        readyTimeout: this.target.connectTimeoutMs ?? 20_000,
        // Without hostHash, ssh2 hands over the raw key blob: compare it exactly.
        hostVerifier: (key: Buffer) => {
          presented = key;
          return pinnedKeys.some((pin) => pin.blob.equals(key));
        },
      } as Parameters<NodeSSH['connect']>[0]);
    } catch (err) {
      if (presented && !pinnedKeys.some((pin) => pin.blob.equals(presented!))) {
        throw new HostKeyVerificationError(`${host}:${port}`, fingerprint(presented), pinnedKeys.map((k) => fingerprint(k.blob)));
      }
      throw new ConnectionError(`cannot connect to ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    // A dropped connection is forgotten, so the next command reconnects.
    const forget = () => {
      this.connecting = undefined;
    };
    ssh.connection?.on('close', forget);
    ssh.connection?.on('end', forget);
    ssh.connection?.on('error', forget);
    return ssh;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const commandLine = options.cwd ? `cd -- ${shellQuote(options.cwd)} && ${shellJoin(argv)}` : shellJoin(argv);
    if (options.signal?.aborted) throw new CommandAbortedError(`aborted before start: ${argv.join(' ')}`);
    const ssh = await this.connection();
    const client = ssh.connection;
    if (!client) throw new ConnectionError(`not connected to ${this.description}`);
    const started = performance.now();
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new OutputTail(max);
    const stderr = new OutputTail(max);

    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(commandLine, (err, ch) => (err ? reject(new ConnectionError(`${this.description}: ${err.message}`, { cause: err })) : resolve(ch)));
    });

    return new Promise<ExecResult>((resolve, reject) => {
      let exitCode: number | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const kill = () => {
        // Closing the channel hangs up the remote session; the signal is a courtesy
        // for servers that honour it.
        try {
          channel.signal('TERM');
        } catch {
          /* not all servers accept signals */
        }
        channel.close();
      };
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        kill();
        finish(() => reject(new CommandTimeoutError(`timed out after ${timeoutMs} ms: ${argv.join(' ')}`)));
      }, timeoutMs);
      const onAbort = () => {
        kill();
        finish(() => reject(new CommandAbortedError(`aborted: ${argv.join(' ')}`)));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });

      channel.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        options.onOutput?.(chunk.toString('utf8'), 'stdout');
      });
      channel.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        options.onOutput?.(chunk.toString('utf8'), 'stderr');
      });
      channel.on('exit', (code: number | null, signal?: string) => {
        exitCode = code ?? (signal ? 128 : 255);
      });
      // ssh2 may hand the exit status to 'close' instead of (or before) 'exit'.
      channel.on('close', (code?: number | null, signal?: string) => {
        if (exitCode === undefined && (typeof code === 'number' || signal)) exitCode = typeof code === 'number' ? code : 128;
        finish(() => {
          if (exitCode === undefined) {
            reject(new ConnectionError(`${this.description}: channel closed without an exit status: ${argv.join(' ')}`));
            return;
          }
          resolve({
            argv,
            code: exitCode,
            stdout: stdout.text(),
            stderr: stderr.text(),
            truncated: stdout.truncated || stderr.truncated,
            durationMs: performance.now() - started,
          });
        });
      });
    });
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    if (pending) (await pending.catch(() => undefined))?.dispose();
  }
}
