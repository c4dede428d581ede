/**
 * Scheduled redeploys on the real stack: a Temporal Schedule fires
 * scheduledDeployWorkflow, which plans on the worker and runs a real deploy
 * (v1 -> v2 on the nginx stack) as the environment's deploy workflow; paused,
 * the schedule starts nothing more.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Client, ScheduleDescription } from '@temporalio/client';
import {
  createDeploySchedule,
  deleteDeploySchedule,
  deployScheduleId,
  describeDeploySchedule,
  pauseDeploySchedule,
} from '../../src/client/schedule';
import { loadConfig } from '../../src/config/load';
import { deployWorkflowId } from '../../src/messages';
import type { ScheduledDeployResult } from '../../workflows/scheduled-deploy';
import { recordHistory, resetStack, withDeployWorker } from '../support/deploy';
import { loadRig } from '../support/rig';

const rig = loadRig();

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

/**
 * The results of the schedule's runs so far, in order, once `done` holds for them
 * (each run awaited; the list re-read until then).
 */
async function actionResults(client: Client, scheduleId: string, timeoutMs: number, done: (results: ScheduledDeployResult[]) => boolean): Promise<ScheduledDeployResult[]> {
  return waitFor(`the schedule's runs`, timeoutMs, async () => {
    const { recentActions } = (await describeDeploySchedule(client, scheduleId)).info;
    const results: ScheduledDeployResult[] = [];
    for (const { action } of recentActions) {
      results.push((await client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId).result()) as ScheduledDeployResult);
    }
    return done(results) ? results : undefined;
  });
}

/** Lets the runs the schedule started end while the worker still runs, so none is left on a dead task queue. */
async function settle(client: Client, description: ScheduleDescription): Promise<void> {
  await Promise.all(
    description.info.runningActions.map(async ({ workflow }) => {
      const handle = client.workflow.getHandle(workflow.workflowId, workflow.firstExecutionRunId);
      await Promise.race([handle.result(), sleep(60_000)]).catch(() => undefined);
    }),
  );
}

describe('scheduled redeploys', () => {
  it('a schedule fires a real deploy; paused, it starts nothing more', { timeout: 120_000 }, async () => {
    resetStack('nginx');
    const env = loadConfig(path.join(rig.rigDir, 'composure.yml')).environments.nginx;
    assert.ok(env, 'the rig config has an nginx environment');
    const scheduleId = deployScheduleId('nginx', `test-${process.pid}-${Date.now().toString(36)}`);

    await withDeployWorker(async ({ client, taskQueue }) => {
      try {
        // A deploy of nginx "already running": a placeholder run under the environment's deploy id, on a
        // task queue no worker polls. A firing meanwhile must be skipped, not fail.
        const placeholder = await client.workflow.start('deployWorkflow', { workflowId: deployWorkflowId('nginx'), taskQueue: `${taskQueue}-idle`, args: [] });
        let results: ScheduledDeployResult[];
        try {
          await createDeploySchedule(client, { scheduleId, env, ref: 'v2', every: '5s', bakeMs: 0, taskQueue });
          results = await actionResults(client, scheduleId, 20_000, (r) => r.length >= 1);
          assert.equal(results[0]?.outcome, 'skipped', JSON.stringify(results[0]));
          assert.match(results[0]?.reason ?? '', /already running \(composure-deploy-nginx\)/);
        } finally {
          await placeholder.terminate('placeholder for the schedule test').catch(() => undefined);
        }

        // A later firing deploys v2 for real; firings while it runs are skipped (overlap SKIP), and the
        // next one after it finds v2 running: a no-op, no second deploy.
        results = await actionResults(client, scheduleId, 60_000, (r) => r.findIndex((x) => x.outcome === 'succeeded') >= 0 && r.at(-1)?.outcome === 'noop');
        const deployed = results.findIndex((r) => r.outcome === 'succeeded');
        const result = results[deployed]!;
        assert.deepEqual(results.slice(0, deployed).map((r) => r.outcome), Array(deployed).fill('skipped'));
        assert.deepEqual(results.slice(deployed + 1).map((r) => r.outcome), Array(results.length - deployed - 1).fill('noop'));
        assert.equal(result.ref, 'v2');
        assert.match(result.deployId ?? '', /^d[0-9]{14}[0-9a-f]{6}$/);
        assert.equal((await fetch(`${rig.stacks.nginx.url}/api/`)).headers.get('x-app-version'), 'v2');

        // It ran as the environment's own deploy workflow, a child of the scheduled run.
        const actions = (await describeDeploySchedule(client, scheduleId)).info.recentActions;
        const firing = actions[deployed]!;
        // The scheduled runs' own histories (a skip, the deploy as a child, a no-op) are replayed by test/unit/replay.test.ts.
        const runOf = (i: number) => client.workflow.getHandle(actions[i]!.action.workflow.workflowId, actions[i]!.action.workflow.firstExecutionRunId);
        await recordHistory(runOf(0), 'scheduled-nginx-skipped');
        await recordHistory(runOf(deployed), 'scheduled-nginx-deployed');
        await recordHistory(runOf(results.length - 1), 'scheduled-nginx-noop');
        assert.match(firing.action.workflow.workflowId, /^composure-scheduled-nginx-test-/);
        const deploy = await client.workflow.getHandle(deployWorkflowId('nginx')).describe();
        assert.equal(deploy.type, 'deployWorkflow');
        assert.equal(deploy.parentExecution?.workflowId, firing.action.workflow.workflowId);
        assert.equal(deploy.memo?.deployId, result.deployId);
        assert.equal(deploy.memo?.scheduleId, scheduleId);

        await pauseDeploySchedule(client, scheduleId, 'paused by the rig test');
        const before = await describeDeploySchedule(client, scheduleId);
        assert.equal(before.state.paused, true);
        assert.equal(before.state.note, 'paused by the rig test');
        await sleep(12_000);
        const after = await describeDeploySchedule(client, scheduleId);
        assert.equal(after.info.numActionsTaken, before.info.numActionsTaken, 'no run started while paused');
        assert.equal(after.info.recentActions.length, before.info.recentActions.length);
      } finally {
        // Paused first, so no run starts between the last look and the delete.
        await pauseDeploySchedule(client, scheduleId, 'test over').catch(() => undefined);
        const last = await describeDeploySchedule(client, scheduleId).catch(() => undefined);
        await deleteDeploySchedule(client, scheduleId).catch(() => undefined);
        if (last) await settle(client, last);
      }
    });
    resetStack('nginx');
  });
});
