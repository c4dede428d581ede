/**
 * How activities reach a host: the transport for the target's host, with the
 * activity's cancellation wired to the command, and effects that take place
 * once however often the activity is retried (see src/commands/supervise.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { pruneRuns, superviseDiscard, superviseKill, superviseStart, superviseWait } from '../src/commands/supervise';
import type { HostConfig } from '../src/config/types';
import type { DeployTarget } from '../src/deploy/types';
import {
  CommandAbortedError,
  CommandFailedError,
  CommandTimeoutError,
  RunLostError,
  type ExecOptions,
  type ExecResult,
  type Transport,
} from '../src/transport';

/** Resolves a configured host (or the worker's default host) to a transport; the worker owns the pool. */
export type TransportFor = (host?: HostConfig) => Transport;

export interface EffectOptions {
  /** The command is stopped (TERM, then KILL) after this long. */
  timeoutMs?: number;
  /** Keep at most this many bytes of output, the tail. */
  maxOutputBytes?: number;
  onOutput?: (chunk: string) => void;
}

export interface EffectResult {
  argv: readonly string[];
  code: number;
  /** stdout and stderr as written, interleaved (the tail, when long). */
  output: string;
  /** True when this attempt found the command started by an earlier attempt and waited for it. */
  attached: boolean;
  durationMs: number;
}

export interface Host {
  transport: Transport;
  /** Runs a read-only argv in the project directory; resolves with any exit code. Safe to repeat. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but throws CommandFailedError unless it exits 0. */
  run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Runs a command that changes the host, once: inside an activity, a retried
   * attempt waits for the run an earlier attempt started instead of starting
   * it again. Resolves with any exit code.
   */
  effect(argv: readonly string[], options?: EffectOptions): Promise<EffectResult>;
  /** Like effect, but throws CommandFailedError unless it exits 0. */
  apply(argv: readonly string[], options?: EffectOptions): Promise<EffectResult>;
}

/** The running activity's context, or undefined when called elsewhere (tests, CLI). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function activitySignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

export const runsDirOf = (target: Pick<DeployTarget, 'directory'>) => `${target.directory}/.composure/runs`;

/** How long one wait on the host lasts before it reports "still running" (tenths of a second). */
const WAIT_SLICE_TENTHS = 100;
/** After TERM, how long a timed-out or cancelled command has to end before KILL. */
const KILL_GRACE_MS = 10_000;

export function hostOf(transportFor: TransportFor, target: Pick<DeployTarget, 'host' | 'directory'>): Host {
  const transport = transportFor(target.host);
  const exec = (argv: readonly string[], options: ExecOptions = {}) =>
    transport.exec(argv, { cwd: target.directory, signal: activitySignal(), timeoutMs: 5 * 60_000, ...options });
  const checked = <R extends { code: number; argv: readonly string[] }>(result: R, tail: string): R => {
    if (result.code !== 0) throw new CommandFailedError(result.argv, result.code, tail.slice(-2000).trim());
    return result;
  };
  // Runs of one attempt are numbered by command, so a retry that issues the same commands meets the same runs.
  const occurrences = new Map<string, number>();

  const effect = async (argv: readonly string[], options: EffectOptions = {}): Promise<EffectResult> => {
    const context = activityContext();
    if (!context) {
      // Outside an activity (CLI, tests) nothing retries the call: run it directly.
      const result = await exec(argv, { timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes, onOutput: options.onOutput });
      return { argv, code: result.code, output: `${result.stdout}${result.stderr}`, attached: false, durationMs: result.durationMs };
    }
    const digest = createHash('sha256').update(argv.join('\0')).digest('hex').slice(0, 12);
    const occurrence = occurrences.get(digest) ?? 0;
    occurrences.set(digest, occurrence + 1);
    const { info } = context;
    const runId = (info.workflowExecution?.runId ?? 'no-workflow').replace(/[^A-Za-z0-9-]/g, '_');
    const step = info.activityId.replace(/[^A-Za-z0-9-]/g, '_');
    const runDir = `${runsDirOf(target)}/${runId}/${step}-${digest}-${occurrence}`;
    return superviseRun(transport, target.directory, runDir, argv, options, context);
  };

  return {
    transport,
    exec,
    async run(argv, options) {
      const result = await exec(argv, options);
      return checked(result, result.stderr);
    },
    effect,
    async apply(argv, options) {
      const result = await effect(argv, options);
      return checked(result, result.output);
    },
  };
}

/** Starts (or finds) the run in RUN_DIR and waits for it, heartbeating on the activity's timer meanwhile. */
async function superviseRun(
  transport: Transport,
  cwd: string,
  runDir: string,
  argv: readonly string[],
  options: EffectOptions,
  context: Context,
): Promise<EffectResult> {
  const started = performance.now();
  const max = options.maxOutputBytes ?? 1024 * 1024;
  const control = (command: string[]) => transport.exec(command, { cwd, timeoutMs: 60_000 });
  const start = async () => {
    const result = await control(superviseStart(runDir, argv));
    if (result.code !== 0) throw new CommandFailedError(result.argv, result.code, result.stderr.trim());
    return result.stdout.trim() === 'attached';
  };
  let attached = await start();
  let output = '';
  let offset = 0;
  let restarted = false;
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const tag = randomUUID();

  /** Stops the run: TERM to its process group, KILL if it has not ended after the grace. */
  const stop = async () => {
    await control(superviseKill(runDir, 'TERM'));
    const killAt = Date.now() + KILL_GRACE_MS;
    for (;;) {
      const slice = await waitSlice(20);
      if (slice.state === 'exit') return;
      if (slice.state !== 'running' || Date.now() > killAt) break;
    }
    await control(superviseKill(runDir, 'KILL'));
  };

  const waitSlice = async (tenths: number, signal?: AbortSignal) => {
    const result = await transport.exec(superviseWait(runDir, offset, tenths, tag), {
      cwd,
      signal,
      timeoutMs: tenths * 100 + 60_000,
      maxOutputBytes: max,
      onOutput: undefined,
    });
    const at = result.stdout.lastIndexOf(`\n${tag} `);
    if (result.code !== 0 || at < 0) {
      throw new CommandFailedError(result.argv, result.code, `no status from the run in ${runDir}: ${result.stderr.trim()}`);
    }
    const chunk = result.stdout.slice(0, at);
    const [state = '', ...rest] = result.stdout
      .slice(at + tag.length + 2)
      .trim()
      .split(' ');
    offset = Number(rest.at(-1));
    if (chunk) {
      output = (output + chunk).slice(-max);
      options.onOutput?.(chunk);
    }
    return { state, code: state === 'exit' ? Number(rest[0]) : undefined };
  };

  for (;;) {
    let slice: { state: string; code?: number };
    try {
      slice = await waitSlice(WAIT_SLICE_TENTHS, context.cancellationSignal);
    } catch (err) {
      if (!context.cancellationSignal.aborted) throw err;
      // Cancelled on purpose (an abort): stop the command. A worker shutting down or
      // a lost heartbeat leaves it running, so the next attempt finds it and waits.
      if (context.cancellationDetails?.cancelRequested) await stop().catch(() => undefined);
      throw new CommandAbortedError(`${context.cancellationDetails?.cancelRequested ? 'cancelled' : 'left running on the host'}: ${argv.join(' ')}`);
    }
    if (slice.state === 'exit') return { argv, code: slice.code ?? 255, output, attached, durationMs: performance.now() - started };
    if (slice.state === 'vanished') throw new RunLostError(`the command's process on the host is gone without an exit status (run ${runDir}): ${argv.join(' ')}`);
    if (slice.state === 'unstarted') {
      // The claim was made but its runner never appeared (the start was cut short): claim again, once.
      if (restarted) throw new RunLostError(`the command never started on the host (run ${runDir}): ${argv.join(' ')}`);
      restarted = true;
      await control(superviseDiscard(runDir, `unstarted-${Date.now()}`));
      attached = await start();
      offset = 0;
      continue;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new CommandTimeoutError(`timed out after ${options.timeoutMs} ms: ${argv.join(' ')}`);
    }
  }
}

/** Removes the run directories of runs older than a week (best effort). */
export async function pruneOldRuns(host: Host, target: Pick<DeployTarget, 'directory'>): Promise<void> {
  await host.exec(pruneRuns(runsDirOf(target), 7)).catch(() => undefined);
}

const progress = new WeakMap<Context, unknown>();

/** Records progress for the heartbeat, and beats now (throttled by the SDK); a no-op outside an activity. */
export function beat(details?: unknown): void {
  const context = activityContext();
  if (!context) return;
  progress.set(context, details);
  context.heartbeat(details);
}

/**
 * Wraps an activity so that it heartbeats every second for as long as it
 * runs, whatever it is doing: a host command that prints nothing for minutes
 * (a build step, a migration, a container draining) is alive, and only a dead
 * worker misses the heartbeat timeout. The details are the last progress beat.
 */
export function heartbeating<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const context = activityContext();
    if (!context) return fn(...args);
    const timer = setInterval(() => context.heartbeat(progress.get(context)), 1000);
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
}

/** Sleep that an activity cancellation interrupts. */
export async function pause(ms: number): Promise<void> {
  const context = activityContext();
  if (context) return context.sleep(ms);
  await new Promise((resolve) => setTimeout(resolve, ms));
}
