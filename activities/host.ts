/**
 * How activities reach a host: the transport for the target's host, with the
 * activity's cancellation wired to the command (an abort closes the channel).
 */
import { Context } from '@temporalio/activity';
import type { HostConfig } from '../src/config/types';
import type { DeployTarget } from '../src/deploy/types';
import { CommandFailedError, type ExecOptions, type ExecResult, type Transport } from '../src/transport';

/** Resolves a configured host (or the worker's default host) to a transport; the worker owns the pool. */
export type TransportFor = (host?: HostConfig) => Transport;

export interface Host {
  transport: Transport;
  /** Runs argv in the project directory; resolves with any exit code. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs argv in the project directory; throws CommandFailedError unless it exits 0. */
  run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
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

export function hostOf(transportFor: TransportFor, target: Pick<DeployTarget, 'host' | 'directory'>): Host {
  const transport = transportFor(target.host);
  const exec = (argv: readonly string[], options: ExecOptions = {}) =>
    transport.exec(argv, { cwd: target.directory, signal: activitySignal(), timeoutMs: 5 * 60_000, ...options });
  return {
    transport,
    exec,
    async run(argv, options) {
      const result = await exec(argv, options);
      if (result.code !== 0) throw new CommandFailedError(argv, result.code, result.stderr.slice(-2000).trim());
      return result;
    },
  };
}

/** Heartbeat if inside an activity; a no-op elsewhere. */
export function beat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/** Sleep that an activity cancellation interrupts. */
export async function pause(ms: number): Promise<void> {
  const context = activityContext();
  if (context) return context.sleep(ms);
  await new Promise((resolve) => setTimeout(resolve, ms));
}
