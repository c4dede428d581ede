/**
 * The host lock on the rig's image stack: two deploys of one directory raced
 * 50 times from two workers (each with its own SSH connection) and exactly
 * one proceeds every time; a lock without a holder record is respected for
 * the grace period and taken over after it; a failed_compensation lock
 * blocks the next deploy until `composure lock release`; `lock status`
 * shows the holder, its run and link; `lock release` refuses while the
 * holder runs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createActivities, singleTransport } from '../../activities';
import { newDeployId } from '../../src/client/prepare';
import type { DeployInput, LockHolder } from '../../src/deploy/types';
import { readLock, type Exec } from '../../src/host/lock';
import { deployStartMetadata } from '../../src/messages';
import type { deployWorkflow } from '../../workflows/deploy/workflow';
import { WORKFLOWS_PATH } from '../../worker/create';
import { runCli } from '../support/cli';
import { prepareRigDeploy, resetStack, withDeployWorker } from '../support/deploy';
import { deployUser, loadRig, rigClient, rigSshTransport, rigWorkerConnection, uniqueTaskQueue } from '../support/rig';

const rig = loadRig();
const stack = rig.stacks.images;
const lockDir = `${stack.dir}/.composure/lock`;
const config = path.join(rig.rigDir, 'composure.yml');
const cliEnv = { TEMPORAL_ADDRESS: rig.temporal.address };
const ROUNDS = Number(process.env.COMPOSURE_LOCK_RACE_ROUNDS ?? 50);

type History = temporal.api.history.v1.IHistory;
type Start = (input: DeployInput, workflowId: string) => Promise<WorkflowHandleWithFirstExecutionRunId<typeof deployWorkflow>>;

/** What a run's history says about the lock: whether it got past it, and the failure types of its activities. */
function lockEvidence(history: History): { passed: boolean; failures: string[]; acquiredBy?: string; acquireStartedMs?: number } {
  const events = history.events ?? [];
  const scheduled = new Map<string, string>();
  for (const e of events) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) scheduled.set(String(e.eventId), name);
  }
  const failures = events.flatMap((e) => {
    const failure = e.activityTaskFailedEventAttributes?.failure;
    return failure ? [failure.applicationFailureInfo?.type ?? failure.cause?.applicationFailureInfo?.type ?? '?'] : [];
  });
  const acquire = events.find((e) => scheduled.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')) === 'acquireLock');
  const at = acquire?.eventTime;
  return {
    passed: [...scheduled.values()].includes('snapshot'),
    failures,
    acquiredBy: acquire?.activityTaskStartedEventAttributes?.identity ?? undefined,
    acquireStartedMs: at ? Number(at.seconds ?? 0) * 1000 + Math.round((at.nanos ?? 0) / 1e6) : undefined,
  };
}

async function lockOnHost(): Promise<ReturnType<typeof readLock>> {
  const transport = rigSshTransport();
  try {
    const exec: Exec = (argv) => transport.exec(argv, { timeoutMs: 60_000 });
    return await readLock(exec, stack.dir);
  } finally {
    await transport.close();
  }
}

/** Two workers on one task queue, each with its own SSH transport and Temporal connection. */
async function withTwoWorkers<T>(fn: (rig: { start: Start }) => Promise<T>): Promise<T> {
  const transports = [rigSshTransport(), rigSshTransport()];
  const connections = await Promise.all([rigWorkerConnection(), rigWorkerConnection()]);
  const { client, close } = await rigClient();
  const taskQueue = uniqueTaskQueue('lock-race');
  const start: Start = (input, workflowId) =>
    client.workflow.start<typeof deployWorkflow>('deployWorkflow', { taskQueue, workflowId, args: [input], ...deployStartMetadata(input) });
  try {
    // As worker/create.ts makes them, with an identity each, so the history tells them apart.
    const workers = await Promise.all(
      transports.map((transport, i) =>
        Worker.create({
          connection: connections[i]!,
          taskQueue,
          identity: `lock-race-worker-${i + 1}`,
          activities: createActivities(singleTransport(transport)),
          workflowsPath: WORKFLOWS_PATH,
          maxHeartbeatThrottleInterval: '1 second',
          defaultHeartbeatThrottleInterval: '1 second',
        }),
      ),
    );
    const work = fn({ start });
    const [result] = await Promise.all(workers.map((worker) => worker.runUntil(work)));
    return result!;
  } finally {
    await close();
    for (const t of transports) await t.close();
    for (const c of connections) await c.close();
  }
}

describe('the host lock', { concurrency: false }, () => {
  it(`two deploys of one environment raced ${ROUNDS} times from two workers: exactly one proceeds every time`, async () => {
    resetStack('images');
    const base = await prepareRigDeploy('images', 'v1');
    // v1 again: the pull finds the same images, so nothing is rolled out and each round is short.
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    const began = Date.now();
    const rounds: Array<{ round: number; winner: string; loserFailures: string[]; acquiredBy: string[]; gapMs: number; ms: number }> = [];
    await withTwoWorkers(async ({ start }) => {
      for (let round = 1; round <= ROUNDS; round++) {
        const roundBegan = Date.now();
        const inputs = ['a', 'b'].map((side) => ({ side, input: { ...base, deployId: newDeployId() } }));
        // Both start at the same moment.
        const handles = await Promise.all(inputs.map(({ side, input }) => start(input, `composure-lock-race-${tag}-${round}-${side}`)));
        const results = await Promise.all(handles.map((h) => h.result()));
        const evidence = await Promise.all(handles.map(async (h) => lockEvidence(await h.fetchHistory())));
        const passed = evidence.map((e, i) => (e.passed ? inputs[i]!.side : undefined)).filter(Boolean);
        assert.equal(passed.length, 1, `round ${round}: exactly one got past the lock (${JSON.stringify(evidence)})`);
        const winner = evidence.findIndex((e) => e.passed);
        const loser = 1 - winner;
        assert.equal(results[winner]!.outcome, 'succeeded', `round ${round}: ${results[winner]!.lastError}`);
        assert.deepEqual(Object.values(results[winner]!.services).map((s) => s.state), ['skipped', 'skipped', 'kept'], `round ${round}: nothing to roll out`);
        assert.deepEqual(evidence[loser]!.failures, ['LockHeldError'], `round ${round}: the other met LockHeldError, once, and nothing else`);
        assert.match(results[loser]!.lastError ?? '', /is locked by deploy /);
        assert.deepEqual(evidence[winner]!.failures, [], `round ${round}: the winner's steps all succeeded`);
        assert.equal(await lockOnHost(), undefined, `round ${round}: the lock is free afterwards`);
        const gapMs = Math.abs((evidence[0]!.acquireStartedMs ?? NaN) - (evidence[1]!.acquireStartedMs ?? NaN));
        rounds.push({ round, winner: inputs[winner]!.side, loserFailures: evidence[loser]!.failures, acquiredBy: evidence.map((e) => e.acquiredBy ?? '?'), gapMs, ms: Date.now() - roundBegan });
      }
    });
    const seconds = (Date.now() - began) / 1000;
    const split = rounds.filter((r) => new Set(r.acquiredBy).size === 2).length;
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const ms = sorted(rounds.map((r) => r.ms));
    const gaps = sorted(rounds.map((r) => r.gapMs));
    console.log(
      `lock race: ${rounds.length}/${ROUNDS} rounds with exactly one deploy past the lock (the other LockHeldError); ` +
        `${split} rounds had the two acquireLock attempts on different workers, started a median ${gaps[Math.floor(gaps.length / 2)]} ms apart (max ${gaps.at(-1)} ms); ` +
        `winner a ${rounds.filter((r) => r.winner === 'a').length}, b ${rounds.filter((r) => r.winner === 'b').length}; ` +
        `${seconds.toFixed(1)} s in all, per round median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms.at(-1)} ms`,
    );
    assert.equal(rounds.length, ROUNDS);
  });

  it('a lock without a holder record is respected within the grace period, and taken over after it', async () => {
    resetStack('images');
    deployUser(`mkdir -p ${lockDir}`);
    const input = await prepareRigDeploy('images', 'v1');
    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      const young = await handle.result();
      assert.equal(young.outcome, 'rolled_back');
      assert.deepEqual(lockEvidence(await handle.fetchHistory()).failures, ['LockHeldError']);
      assert.match(young.lastError ?? '', /no readable holder record \(it changed \d+s ago\).*once 300s old/);
      assert.equal(deployUser(`test -d ${lockDir} && ! test -e ${lockDir}/holder.json && echo kept`), 'kept', 'the holderless lock was left alone');

      const status = await runCli(['-c', config, 'lock', 'status', 'images'], { env: cliEnv });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /images: locked, with no readable holder record .*once it is 5m old/);

      // Ten minutes old by the host's clock: stale.
      deployUser(`touch -d '10 minutes ago' ${lockDir}`);
      const old = await (await start({ ...input, deployId: newDeployId() })).result();
      assert.equal(old.outcome, 'succeeded', old.lastError);
    });
    assert.equal(await lockOnHost(), undefined, 'taken over, then released');
  });

  it('a failed_compensation lock blocks the next deploy until `lock release`; `lock status` shows its holder, run and link', async () => {
    resetStack('images');
    const input = await prepareRigDeploy('images', 'v1');
    const ghost: LockHolder = { deployId: 'd20260101000000ghost1', workflowId: 'composure-deploy-images', runId: randomUUID(), ref: 'v2', startedAt: new Date(Date.now() - 125_000).toISOString() };
    const transport = rigSshTransport();
    try {
      // As the workflow leaves it: taken by the deploy, then marked by its finally block.
      const activities = createActivities(transport);
      await activities.acquireLock(input.target, ghost);
      assert.deepEqual(await activities.markLockFailed(input.target, ghost.deployId, 'compensation failed: client (undo): no space left on device'), { marked: true });
    } finally {
      await transport.close();
    }

    const status = await runCli(['-c', config, 'lock', 'status', 'images'], { env: cliEnv });
    assert.equal(status.code, 0, status.stderr);
    console.log(`lock status of a failed_compensation lock:\n${status.stdout}`);
    assert.match(status.stdout, /^images: locked by deploy d20260101000000ghost1 \(ref v2\) for 2m\d+s, since /m);
    assert.match(status.stdout, /state: failed_compensation \(since .*\): compensation failed: client \(undo\): no space left on device/);
    assert.match(status.stdout, /Check the host, then: composure lock release images/);
    assert.match(status.stdout, new RegExp(`run: composure-deploy-images/${ghost.runId}: not found`));
    assert.match(status.stdout, new RegExp(`Temporal UI: http://127\\.0\\.0\\.1:8233/namespaces/default/workflows/composure-deploy-images/${ghost.runId}/history`));
    const json = JSON.parse((await runCli(['-c', config, 'lock', 'status', 'images', '--json'], { env: cliEnv })).stdout) as {
      locked: boolean;
      state: string;
      holder: LockHolder;
      heldForMs: number;
      run: { status: string; url: string };
    };
    assert.deepEqual([json.locked, json.state, json.holder.deployId, json.run.status], [true, 'failed_compensation', ghost.deployId, 'NOT_FOUND']);
    assert.ok(json.heldForMs >= 125_000, String(json.heldForMs));

    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      const blocked = await handle.result();
      assert.equal(blocked.outcome, 'rolled_back');
      assert.deepEqual(lockEvidence(await handle.fetchHistory()).failures, ['LockHeldError'], 'never stale, although its run is unknown');
      assert.match(blocked.lastError ?? '', /compensation could not finish: compensation failed: client \(undo\).*composure lock release images/);

      const released = await runCli(['-c', config, 'lock', 'release', 'images'], { env: cliEnv });
      assert.equal(released.code, 0, released.stderr);
      assert.match(released.stdout, /images: released the lock held by deploy d20260101000000ghost1 .*whose compensation had failed: compensation failed: client \(undo\)/);
      assert.match((await runCli(['-c', config, 'lock', 'status', 'images'], { env: cliEnv })).stdout, /images: not locked/);

      const after = await (await start({ ...input, deployId: newDeployId() })).result();
      assert.equal(after.outcome, 'succeeded', after.lastError);
    });
    assert.equal(await lockOnHost(), undefined);
  });

  it('`lock release` refuses while the holder run is running, unless --force', async () => {
    resetStack('images');
    const input = await prepareRigDeploy('images', 'v1');
    const { client, close } = await rigClient();
    // A run that stays RUNNING: no worker polls its task queue.
    const running = await client.workflow.start<typeof deployWorkflow>('deployWorkflow', { taskQueue: uniqueTaskQueue('nobody-polls'), workflowId: `composure-lock-holder-${process.pid}`, args: [input] });
    const transport = rigSshTransport();
    try {
      const holder: LockHolder = { deployId: input.deployId, workflowId: running.workflowId, runId: running.firstExecutionRunId, ref: 'v1', startedAt: new Date().toISOString() };
      await createActivities(transport).acquireLock(input.target, holder);
      const status = await runCli(['-c', config, 'lock', 'status', 'images'], { env: cliEnv });
      assert.equal(status.code, 0);
      assert.match(status.stdout, /state: held\n {2}run: composure-lock-holder-\d+\/[0-9a-f-]+: running/);

      const refused = await runCli(['-c', config, 'lock', 'release', 'images'], { env: cliEnv });
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /is still running: wait for it or abort it .*--force releases the lock anyway/);
      assert.ok((await lockOnHost())?.holder, 'still held');

      const forced = await runCli(['-c', config, 'lock', 'release', 'images', '--force', '--json'], { env: cliEnv });
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual((JSON.parse(forced.stdout) as { released: boolean; holder: LockHolder }).released, true);
      assert.equal(await lockOnHost(), undefined);
    } finally {
      await transport.close();
      await running.terminate('test over').catch(() => undefined);
      await close();
    }
  });
});
