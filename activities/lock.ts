/**
 * The host's deploy lock: one deploy per project directory at a time, other
 * tools can see who holds it (`.composure/lock/holder.json`). Taking it,
 * taking over a stale one, releasing and marking it are each one script under
 * the host's `flock` guard (src/commands/lock.ts), so two workers racing for
 * one directory cannot both proceed.
 */
import { Context } from '@temporalio/activity';
import { holderRun } from '../src/client/lock';
import { LockHeldError } from '../src/deploy/errors';
import type { DeployTarget, LockHolder } from '../src/deploy/types';
import { judgeLock, readLock, swapLock, tryAcquireLock, type Exec, type HeldLock } from '../src/host/lock';
import { hostOf, type TransportFor } from './host';

export type { LockHolder } from '../src/deploy/types';

/** How often a lock that changes under a takeover is looked at again before giving up (retryable). */
const MAX_JUDGEMENTS = 5;

export function createLockActivities(transportFor: TransportFor) {
  const execOf = (target: DeployTarget): Exec => {
    const host = hostOf(transportFor, target);
    return (argv) => host.exec(argv, { timeoutMs: 60_000 });
  };

  return {
    /**
     * Takes the lock for HOLDER. A lock held by a running deploy, by one whose
     * compensation failed, or without a readable holder for less than the
     * grace period, is LockHeldError. A stale one (its run ended, or Temporal
     * does not know it) is taken over only if it is still exactly the lock
     * that was judged stale.
     */
    async acquireLock(target: DeployTarget, holder: LockHolder): Promise<void> {
      const exec = execOf(target);
      let lock: HeldLock | undefined;
      for (let judged = 0; judged < MAX_JUDGEMENTS; judged++) {
        lock ??= await tryAcquireLock(exec, target.directory, holder);
        if (!lock) return;
        const verdict = await judgeLock(lock, holder, (h) => holderRun(Context.current().client, h), target);
        if (verdict.kind === 'ours') return;
        if (verdict.kind === 'held') throw new LockHeldError(verdict.message);
        const swapped = await swapLock(exec, target.directory, lock, { mode: 'take', record: JSON.stringify(holder), minAgeSeconds: verdict.minAgeSeconds });
        if (swapped.done) return;
        // Someone changed the lock since it was judged: look again (gone: try to take it afresh).
        lock = swapped.gone ? undefined : swapped.now;
      }
      throw new Error(`the lock in ${target.directory}/.composure kept changing while being taken over`);
    },

    /** Releases the lock if DEPLOYID holds it; anyone else's lock is left alone. */
    async releaseLock(target: DeployTarget, deployId: string): Promise<void> {
      const exec = execOf(target);
      for (let judged = 0; judged < MAX_JUDGEMENTS; judged++) {
        const lock = await readLock(exec, target.directory);
        if (lock?.holder?.deployId !== deployId) return;
        const swapped = await swapLock(exec, target.directory, lock, { mode: 'release' });
        if (swapped.done || swapped.gone) return;
      }
      throw new Error(`the lock in ${target.directory}/.composure kept changing while being released`);
    },

    /**
     * After a compensation that could not finish: the lock stays held, its
     * record says so and why, and no deploy takes it over until a person runs
     * `composure lock release`. Says so if the lock is no longer this deploy's.
     */
    async markLockFailed(target: DeployTarget, deployId: string, reason: string): Promise<{ marked: boolean; note?: string }> {
      const exec = execOf(target);
      for (let judged = 0; judged < MAX_JUDGEMENTS; judged++) {
        const lock = await readLock(exec, target.directory);
        if (!lock) return { marked: false, note: 'the lock had been removed: nothing stops the next deploy' };
        if (lock.holder?.deployId !== deployId) return { marked: false, note: `the lock is no longer this deploy's (${lock.holder?.deployId ?? 'no readable holder'})` };
        const record: LockHolder = { ...lock.holder, state: 'failed_compensation', reason: reason.slice(0, 2000), failedAt: new Date().toISOString() };
        const swapped = await swapLock(exec, target.directory, lock, { mode: 'rewrite', record: JSON.stringify(record) });
        if (swapped.done) return { marked: true };
      }
      throw new Error(`the lock in ${target.directory}/.composure kept changing while being marked`);
    },
  };
}
