/**
 * SSH transport: one reused connection per host, host key checked against the
 * pinned keys on every handshake, each command on its own channel with a
 * timeout, an AbortSignal and a cap on the output kept.
 *
 * A dead link (packets dropped, no RST) looks to TCP like a slow one, and TCP
 * may keep such a connection "open" for many minutes. So liveness is judged by
 * SSH keepalives instead: when the peer stops answering them, the connection is
 * declared lost, every command still running on it fails at once with a
 * ConnectionError (retryable, so the activity runs again), and the next command
 * reconnects.
 */
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
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
  /** TCP connect, handshake and login together (default 20 s; 0: none). */
  connectTimeoutMs?: number;
  /** A keepalive is sent this often; 0 turns keepalives off, and with them dead-peer detection (default 2 s). */
  keepaliveIntervalMs?: number;
  /**
   * This many keepalives (at least 1) may go unanswered; the connection is
   * declared lost at the next interval, (keepaliveCountMax + 1) ×
   * keepaliveIntervalMs after the last answer (default 3, so 8 s).
   */
  keepaliveCountMax?: number;
  /** Opening a command's channel (default 15 s; 0: none); past it the connection is treated as dead. */
  channelOpenTimeoutMs?: number;
}

export const SSH_DEFAULTS = {
  connectTimeoutMs: 20_000,
  // 2 s × (3 + 1): a dead peer is noticed within 8 s, not at the activity's
  // start-to-close timeout minutes later (its heartbeats go on, since the
  // worker is fine), while a healthy but busy host has three chances to answer.
  keepaliveIntervalMs: 2_000,
  keepaliveCountMax: 3,
  // Longer than the keepalive bound, so on a dead peer the keepalive (which
  // names the real cause) usually fires first; this catches a connection that
  // still answers keepalives but never opens a channel.
  channelOpenTimeoutMs: 15_000,
} as const;

/** One SSH connection and the commands on it, so that losing it fails them all at once. */
class Connection {
  private lostReason: string | undefined;
  private readonly onLost = new Set<(reason: string) => void>();

  constructor(
    readonly ssh: NodeSSH,
    readonly client: Client,
    private readonly forget: () => void,
  ) {}

  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Calls `fail` if the connection is lost before the returned function is called. */
  track(fail: (reason: string) => void): () => void {
    this.onLost.add(fail);
    return () => this.onLost.delete(fail);
  }

  lose(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.forget();
    const failing = [...this.onLost];
    this.onLost.clear();
    for (const fail of failing) fail(reason);
  }

  /** For a peer that no longer answers: a polite disconnect would wait on it forever. */
  kill(reason: string): void {
    this.lose(reason);
    this.client.destroy();
  }
}

export class SshTransport implements Transport {
  readonly description: string;
  private connecting: Promise<Connection> | undefined;

  constructor(private readonly target: SshTarget) {
    this.description = `ssh ${target.username}@${target.host}:${target.port}`;
    const { keepaliveIntervalMs, keepaliveCountMax, connectTimeoutMs, channelOpenTimeoutMs } = this.settings;
    // ssh2 gives up at the first interval with a count of 0, before sending a
    // single keepalive: every connection would be dropped after one interval.
    if (keepaliveIntervalMs > 0 && !(Number.isInteger(keepaliveCountMax) && keepaliveCountMax >= 1)) {
      throw new RangeError(`${this.description}: keepaliveCountMax must be a whole number of at least 1, got ${keepaliveCountMax}`);
    }
    for (const [name, ms] of Object.entries({ keepaliveIntervalMs, connectTimeoutMs, channelOpenTimeoutMs })) {
      if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`${this.description}: ${name} must be a number of milliseconds, got ${ms}`);
    }
  }

  private get settings() {
    const t = this.target;
    return {
      connectTimeoutMs: t.connectTimeoutMs ?? SSH_DEFAULTS.connectTimeoutMs,
      keepaliveIntervalMs: t.keepaliveIntervalMs ?? SSH_DEFAULTS.keepaliveIntervalMs,
      keepaliveCountMax: t.keepaliveCountMax ?? SSH_DEFAULTS.keepaliveCountMax,
      channelOpenTimeoutMs: t.channelOpenTimeoutMs ?? SSH_DEFAULTS.channelOpenTimeoutMs,
    };
  }

  private connection(): Promise<Connection> {
    if (this.connecting) return this.connecting;
    // Only this attempt may clear the cache: a late event from an old
    // connection must not make a newer one forgotten.
    const forget = () => {
      if (this.connecting === attempt) this.connecting = undefined;
    };
    const attempt = this.connect(forget);
    this.connecting = attempt;
    attempt.catch(forget);
    return attempt;
  }

  private async connect(forget: () => void): Promise<Connection> {
    const { host, port, username, privateKey, pinnedKeys } = this.target;
    const { connectTimeoutMs, keepaliveIntervalMs, keepaliveCountMax } = this.settings;
    let presented: Buffer | undefined;
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host,
        port,
        username,
        privateKey,
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: keepaliveIntervalMs,
        keepaliveCountMax,
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
    const client = ssh.connection;
    if (!client) throw new ConnectionError(`cannot connect to ${this.description}: the connection closed right after login`);
    const connection = new Connection(ssh, client, forget);
    // After login an error means the connection is unusable; destroying it
    // also covers an error ssh2 does not tear down itself.
    client.on('error', (err: Error & { level?: string }) => {
      const silent = err.level === 'client-timeout' && /keepalive/i.test(err.message);
      connection.kill(
        silent ? `the peer went silent (${keepaliveCountMax} keepalives, ${keepaliveIntervalMs} ms apart, unanswered)` : err.message,
      );
    });
    client.on('end', () => connection.lose('the server ended the connection'));
    client.on('close', () => connection.lose('the connection closed'));
    return connection;
  }

  /** Resolves once the server has accepted the exec request, i.e. the command runs. */
  private openChannel(connection: Connection, commandLine: string, what: string): Promise<ClientChannel> {
    const { channelOpenTimeoutMs } = this.settings;
    return new Promise<ClientChannel>((resolve, reject) => {
      let waiting = true;
      const settle = () => {
        waiting = false;
        clearTimeout(timer);
        untrack();
      };
      const fail = (message: string, cause?: unknown) => {
        if (!waiting) return;
        settle();
        reject(new ConnectionError(`${this.description}: ${message}`, { cause }));
      };
      const untrack = connection.track((reason) => fail(`connection lost while starting ${what}: ${reason}`));
      const timer =
        channelOpenTimeoutMs > 0
          ? setTimeout(() => {
              fail(`no channel opened within ${channelOpenTimeoutMs} ms for ${what}`);
              // The next attempt gets a fresh connection instead of this unresponsive one.
              connection.kill(`a channel did not open within ${channelOpenTimeoutMs} ms`);
            }, channelOpenTimeoutMs)
          : undefined;
      try {
        connection.client.exec(commandLine, (err, channel) => {
          if (!waiting) {
            // Its caller already got an error: the command must not run unobserved.
            if (!err) channel.close();
            return;
          }
          if (err) {
            fail(`cannot start ${what}: ${err.message}`, err);
            return;
          }
          settle();
          resolve(channel);
        });
      } catch (err) {
        fail(`cannot start ${what}: ${(err as Error).message}`, err);
      }
    });
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const commandLine = options.cwd ? `cd -- ${shellQuote(options.cwd)} && ${shellJoin(argv)}` : shellJoin(argv);
    const what = argv.join(' ');
    if (options.signal?.aborted) throw new CommandAbortedError(`aborted before start: ${what}`);
    const connection = await this.connection();
    if (connection.lost !== undefined) throw new ConnectionError(`${this.description}: connection lost before starting ${what}: ${connection.lost}`);
    const started = performance.now();
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new OutputTail(max);
    const stderr = new OutputTail(max);

    const channel = await this.openChannel(connection, commandLine, what);

    return new Promise<ExecResult>((resolve, reject) => {
      let exitCode: number | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        untrack();
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
        finish(() => reject(new CommandTimeoutError(`timed out after ${timeoutMs} ms: ${what}`)));
      }, timeoutMs);
      const onAbort = () => {
        kill();
        finish(() => reject(new CommandAbortedError(`aborted: ${what}`)));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // Without this, a command on a dead connection waits for its own timeout
      // (10 minutes by default) instead of being retried on a new one.
      const untrack = connection.track((reason) =>
        finish(() => reject(new ConnectionError(`${this.description}: connection lost while running ${what}: ${reason}`))),
      );

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
            reject(new ConnectionError(`${this.description}: channel closed without an exit status: ${what}`));
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
    const connection = await pending?.catch(() => undefined);
    if (!connection) return;
    connection.lose('the transport was closed');
    connection.ssh.dispose();
  }
}
