/**
 * The host's deploy lock, through any way of running a command there (an
 * activity's host, or the CLI's transport): read it, take it, and change it
 * only if it is still as it was seen (compare-and-swap, under the host's
 * guard). Also the rule for when a lock is stale, shared by the deploy and
 * `composure lock`.
 */
import { acquireLockCommand, LOCK_EXIT, parseLockView, readLockCommand, swapLockCommand, type LockSwap } from '../commands/lock';
import type { LockHolder } from '../deploy/types';
import { CommandFailedError, type ExecResult } from '../transport';

/** A lock whose holder record is missing or unreadable is respected this long (by the host's clock): its deploy may be writing it. */
export const LOCK_GRACE_SECONDS = 5 * 60;

export type Exec = (argv: readonly string[]) => Promise<ExecResult>;

export interface HeldLock {
  /** Seconds since the lock directory last changed, by the host's clock. */
  ageSeconds: number;
  /** The holder file as read; undefined when missing or unreadable. What a swap must name. */
  content: string | undefined;
  /** The parsed record; undefined when missing, unreadable or not a holder record. */
  holder: LockHolder | undefined;
}

export function parseHolder(content: string | undefined): LockHolder | undefined {
  if (content === undefined) return undefined;
  try {
    const value = JSON.parse(content) as Partial<LockHolder> | null;
    if (!value || typeof value !== 'object') return undefined;
    const { deployId, workflowId, runId } = value;
    if (typeof deployId !== 'string' || typeof workflowId !== 'string' || typeof runId !== 'string') return undefined;
    return { ref: '', startedAt: '', ...value, deployId, workflowId, runId };
  } catch {
    return undefined;
  }
}

function heldFrom(stdout: string): HeldLock | undefined {
  const view = parseLockView(stdout);
  return view.state === 'free' ? undefined : { ageSeconds: view.ageSeconds, content: view.content, holder: parseHolder(view.content) };
}

async function execLock(exec: Exec, what: string, argv: string[], ok: number[]): Promise<ExecResult> {
  const result = await exec(argv);
  // Named by what it does: the script itself would only bury the host's message.
  if (!ok.includes(result.code)) throw new CommandFailedError(['composure-lock', what], result.code, result.stderr.slice(-2000).trim());
  return result;
}

/** The lock of the project in DIRECTORY, or undefined when free. */
export async function readLock(exec: Exec, directory: string): Promise<HeldLock | undefined> {
  return heldFrom((await execLock(exec, 'read', readLockCommand(directory), [0])).stdout);
}

/** Takes a free lock for HOLDER: undefined when taken (or already holding exactly this record), else the lock as it is. */
export async function tryAcquireLock(exec: Exec, directory: string, holder: LockHolder): Promise<HeldLock | undefined> {
  const result = await execLock(exec, 'acquire', acquireLockCommand(directory, JSON.stringify(holder)), [0, LOCK_EXIT.held]);
  return result.code === 0 ? undefined : heldFrom(result.stdout);
}

export type SwapResult = { done: true } | { done: false; gone: true } | { done: false; gone: false; now: HeldLock };

/** Changes the lock only if its holder content is still SEEN's (and, for a take, old enough). */
export async function swapLock(exec: Exec, directory: string, seen: HeldLock, swap: LockSwap): Promise<SwapResult> {
  const result = await execLock(exec, swap.mode, swapLockCommand(directory, seen.content ?? '', swap), [0, LOCK_EXIT.held, LOCK_EXIT.gone]);
  if (result.code === 0) return { done: true };
  const now = heldFrom(result.stdout);
  return result.code === LOCK_EXIT.gone || !now ? { done: false, gone: true } : { done: false, gone: false, now };
}

/** What Temporal says of a holder's run. */
export interface HolderRun {
  /** RUNNING, COMPLETED, FAILED, …, or NOT_FOUND when Temporal has no such run. */
  status: string;
  /** The run's ComposureStatus search attribute: its outcome once it ended. */
  outcome?: string;
}

export type LockVerdict =
  | { kind: 'ours' }
  | { kind: 'held'; message: string }
  /** Another deploy's lock that may be taken over, if still exactly as seen and at least minAgeSeconds old. */
  | { kind: 'stale'; minAgeSeconds: number; why: string };

const releaseHint = (environment: string) => `check what runs on the host (composure lock status ${environment}), then: composure lock release ${environment}`;

export function describeHolder(h: LockHolder): string {
  return `deploy ${h.deployId} (${h.workflowId}/${h.runId}${h.ref ? `, ref ${h.ref}` : ''}${h.startedAt ? `, since ${h.startedAt}` : ''})`;
}

/**
 * Whether a held lock stops deploy OURS. A lock with no readable holder is
 * respected for the grace period; one whose deploy could not finish its
 * compensation is never stale; otherwise only a holder run that is not
 * running (or that Temporal does not know) is stale. `runOf` may throw
 * (Temporal unreachable): then nothing is decided.
 */
export async function judgeLock(
  lock: HeldLock,
  ours: Pick<LockHolder, 'deployId'>,
  runOf: (holder: LockHolder) => Promise<HolderRun>,
  where: { environment: string; directory: string },
  graceSeconds = LOCK_GRACE_SECONDS,
): Promise<LockVerdict> {
  const { holder } = lock;
  if (!holder) {
    if (lock.ageSeconds < graceSeconds) {
      return {
        kind: 'held',
        message: `${where.directory}/.composure/lock has no readable holder record (it changed ${lock.ageSeconds}s ago): a deploy may be taking it. It counts as stale once ${graceSeconds}s old; to remove it now, ${releaseHint(where.environment)}`,
      };
    }
    return { kind: 'stale', minAgeSeconds: graceSeconds, why: `no readable holder record for ${lock.ageSeconds}s` };
  }
  if (holder.state === 'failed_compensation') {
    return { kind: 'held', message: `${where.directory} is locked by ${describeHolder(holder)}, whose compensation could not finish: ${holder.reason ?? 'no reason recorded'}. The host may be half-deployed: ${releaseHint(where.environment)}` };
  }
  if (holder.deployId === ours.deployId) return { kind: 'ours' };
  const run = await runOf(holder);
  if (run.status === 'RUNNING') return { kind: 'held', message: `${where.directory} is locked by ${describeHolder(holder)}, which is still running` };
  if (run.outcome === 'failed_compensation') {
    return { kind: 'held', message: `${where.directory} is locked by ${describeHolder(holder)}, which ended in failed_compensation. The host may be half-deployed: ${releaseHint(where.environment)}` };
  }
  return { kind: 'stale', minAgeSeconds: 0, why: `its run is ${run.status.toLowerCase().replace(/_/g, ' ')}` };
}
