/**
 * `composure lock status | release <env>`: the host's deploy lock, read and
 * removed by a person. A lock stays after a compensation that could not
 * finish (state failed_compensation), until someone has checked the host and
 * releases it; release refuses while the holder's run is still running,
 * unless --force.
 */
import { holderRun } from '../../client/lock';
import { formatDuration } from '../../compose/duration';
import type { LockHolder } from '../../deploy/types';
import { describeHolder, LOCK_GRACE_SECONDS, readLock, swapLock, type Exec, type HeldLock, type HolderRun } from '../../host/lock';
import { connectTemporal, runUrl } from '../connect';
import { loadEnvironment, transportFor } from '../context';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';

export interface LockOptions {
  config: string;
  json?: boolean;
}

interface RunView extends Partial<HolderRun> {
  workflowId: string;
  runId: string;
  url?: string;
  /** Why Temporal could not say (unreachable). */
  error?: string;
}

/** What the lock's holder run is, and its UI link; Temporal being unreachable is reported, not thrown. */
async function runOf(holder: LockHolder): Promise<RunView> {
  const view: RunView = { workflowId: holder.workflowId, runId: holder.runId };
  let temporal;
  try {
    temporal = await connectTemporal();
    view.url = runUrl(temporal.namespace, holder.workflowId, holder.runId);
    return { ...view, ...(await holderRun(temporal.client, holder)) };
  } catch (err) {
    return { ...view, error: (err as Error).message };
  } finally {
    await temporal?.close();
  }
}

/** Reads the environment's lock over its transport, then closes it. */
async function withLock<T>(options: LockOptions, environment: string, work: (exec: Exec, directory: string, lock: HeldLock | undefined) => Promise<T>): Promise<T> {
  const { env } = loadEnvironment(options.config, environment);
  const transport = transportFor(options.config, env);
  try {
    const exec: Exec = (argv) => transport.exec(argv, { timeoutMs: 60_000 });
    return await work(exec, env.directory, await readLock(exec, env.directory));
  } finally {
    await transport.close();
  }
}

const since = (iso: string | undefined) => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? undefined : Math.max(0, Date.now() - t);
};

const runText = (run: RunView) => (run.error ? `unknown (Temporal: ${run.error})` : `${(run.status ?? '?').toLowerCase().replace(/_/g, ' ')}${run.outcome && run.outcome !== 'running' ? `, ${run.outcome}` : ''}`);

export async function lockStatusCommand(environment: string, options: LockOptions): Promise<number> {
  return withLock(options, environment, async (_exec, directory, lock) => {
    const where = `${directory}/.composure/lock`;
    const holder = lock?.holder;
    const run = holder ? await runOf(holder) : undefined;
    const heldForMs = since(holder?.startedAt);
    if (options.json) {
      console.log(
        JSON.stringify(
          {
            environment,
            lock: where,
            locked: lock !== undefined,
            ...(lock ? { lockAgeSeconds: lock.ageSeconds, state: holder ? (holder.state ?? 'held') : 'unreadable' } : {}),
            ...(holder ? { holder, heldForMs, run } : {}),
            ...(lock && !holder ? { content: lock.content ?? null, graceSeconds: LOCK_GRACE_SECONDS } : {}),
          },
          null,
          2,
        ),
      );
      return ExitCode.ok;
    }
    if (!lock) {
      console.log(`${environment}: not locked (${where})`);
      return ExitCode.ok;
    }
    if (!holder) {
      const stale = lock.ageSeconds >= LOCK_GRACE_SECONDS ? 'a deploy would take it over as stale' : `a deploy takes it over as stale once it is ${formatDuration(LOCK_GRACE_SECONDS * 1000)} old`;
      console.log(`${environment}: locked, with no readable holder record (${where}, last changed ${formatDuration(lock.ageSeconds * 1000)} ago by the host's clock): ${stale}`);
      if (lock.content) console.log(`  holder.json: ${JSON.stringify(lock.content.slice(0, 500))}`);
      return ExitCode.ok;
    }
    console.log(`${environment}: locked by deploy ${holder.deployId}${holder.ref ? ` (ref ${holder.ref})` : ''}${heldForMs !== undefined ? ` for ${formatDuration(heldForMs)}, since ${holder.startedAt}` : ''}`);
    if (holder.state === 'failed_compensation') {
      console.log(`  state: failed_compensation${holder.failedAt ? ` (since ${holder.failedAt})` : ''}: ${holder.reason ?? 'no reason recorded'}`);
      console.log(`  Check the host, then: composure lock release ${environment}`);
    } else {
      console.log(`  state: held`);
    }
    console.log(`  run: ${holder.workflowId}/${holder.runId}: ${runText(run!)}`);
    if (run?.url) console.log(`  Temporal UI: ${run.url}`);
    console.log(`  lock: ${where}`);
    return ExitCode.ok;
  });
}

export async function lockReleaseCommand(environment: string, options: LockOptions & { force?: boolean }): Promise<number> {
  return withLock(options, environment, async (exec, directory, lock) => {
    const emit = (fields: Record<string, unknown>, text: string) => console.log(options.json ? JSON.stringify({ environment, ...fields }) : text);
    if (!lock) {
      emit({ released: false, locked: false }, `${environment}: not locked; nothing to release`);
      return ExitCode.ok;
    }
    const holder = lock.holder;
    if (holder && !options.force) {
      const run = await runOf(holder);
      if (run.error) throw new Error(`cannot tell whether ${describeHolder(holder)} is still running (Temporal: ${run.error}); --force releases the lock anyway`);
      if (run.status === 'RUNNING') {
        throw new UsageError(`the lock's holder, ${describeHolder(holder)}, is still running: wait for it or abort it (composure abort ${environment}); --force releases the lock anyway`);
      }
    }
    const swapped = await swapLock(exec, directory, lock, { mode: 'release' });
    if (!swapped.done && !swapped.gone) {
      throw new Error(`the lock changed while being released (now ${swapped.now.holder ? describeHolder(swapped.now.holder) : 'without a readable holder'}): look again with composure lock status ${environment}`);
    }
    const whose = holder
      ? `${describeHolder(holder)}${holder.state === 'failed_compensation' ? `, whose compensation had failed: ${holder.reason ?? 'no reason recorded'}` : ''}`
      : 'no readable holder record';
    if (swapped.done) emit({ released: true, holder: holder ?? null }, `${environment}: released the lock held by ${whose}`);
    else emit({ released: false, locked: false, holder: holder ?? null }, `${environment}: the lock (held by ${whose}) was already gone`);
    return ExitCode.ok;
  });
}
