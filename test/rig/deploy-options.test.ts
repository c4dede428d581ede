/**
 * Deploy options on the real stack: pre- and post-deploy hooks (a migration
 * runs on the new image before any container changes; a failing one rolls
 * back), stop-first when the config asks for it, and activities that are
 * safe to retry (a repeated scale-up makes no extra container, a repeated
 * stop accepts a container that is gone).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createActivities } from '../../activities';
import { writeRigConfig } from '../support/cli';
import { prepareRigDeploy, resetStack, withDeployWorker } from '../support/deploy';
import { formatReport, startLoad } from '../support/load';
import { loadRig, rigSshTransport } from '../support/rig';

const rig = loadRig();

function serverContainers(): string[] {
  return execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', 'label=com.docker.compose.project=shop-nginx', '--filter', 'label=com.docker.compose.service=server'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
}

describe('deploy options', { concurrency: false }, () => {
  it('a pre-deploy hook runs on the new image before the rollout; post-deploy after', async () => {
    resetStack('nginx');
    const { file } = writeRigConfig({ hooks: { pre_deploy: [{ service: 'server', command: ['migrate'] }], post_deploy: [{ service: 'server', command: ['migrate'] }] } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      const phases = result.timeline.map((t) => t.phase);
      assert.ok(phases.indexOf('pre-deploy-hooks') < phases.indexOf('rolling-out'), phases.join(' '));
      assert.ok(phases.indexOf('post-deploy-hooks') > phases.indexOf('rolling-out'), phases.join(' '));
      const history = JSON.stringify(await handle.fetchHistory());
      const outputs = [...history.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
      assert.ok(outputs.some((o) => o.includes('migrated to v2')), 'the migration ran on the new image');
    });
  });

  it('a failing pre-deploy hook rolls back before any container changes', async () => {
    resetStack('nginx');
    const before = serverContainers();
    const { file } = writeRigConfig({ hooks: { pre_deploy: [{ service: 'server', command: ['migrate', 'fail'] }] } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    await withDeployWorker(async ({ start }) => {
      const result = await (await start(input)).result();
      assert.equal(result.outcome, 'rolled_back');
      assert.match(result.lastError ?? '', /migration failed/);
      assert.equal(result.services.server?.state, 'pending', 'the rollout never started');
    });
    assert.deepEqual(serverContainers(), before);
    assert.equal((await fetch(`${rig.stacks.nginx.url}/api/`)).headers.get('x-app-version'), 'v1');
  });

  it('stop-first, when configured, recreates in place and says it costs downtime', async () => {
    resetStack('nginx');
    const { file } = writeRigConfig({ services: { server: { strategy: 'stop-first' } } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    assert.equal(input.plan.services.find((s) => s.service === 'server')?.strategy, 'stop-first');
    await withDeployWorker(async ({ start }) => {
      const traffic = startLoad({ url: `${rig.stacks.nginx.url}/api/`, ratePerSecond: 20, durationMs: 120_000 });
      const result = await (await start(input)).result();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      assert.equal(result.services.server?.strategy, 'stop-first');
      assert.ok(result.services.server?.warnings.some((w) => /downtime/.test(w)), JSON.stringify(result.services.server));
      // Reported, not asserted: stop-first is the downtime the plan warned of.
      console.log(`stop-first under load: ${formatReport(report)}`);
    });
    assert.equal(serverContainers().length, 1);
    assert.equal((await fetch(`${rig.stacks.nginx.url}/api/`)).headers.get('x-app-version'), 'v2');
  });

  it('a lock left by a run that no longer exists is stale and taken over; the lock is released after', async () => {
    resetStack('nginx');
    const lock = `${rig.stacks.nginx.dir}/.composure/lock`;
    const holder = { deployId: 'd-ghost', workflowId: 'composure-deploy-ghost-run', runId: '00000000-0000-0000-0000-000000000000', ref: 'v0', startedAt: '2020-01-01T00:00:00Z' };
    execFileSync('su', ['-', 'deploy', '-c', `mkdir -p ${lock} && printf '%s' '${JSON.stringify(holder)}' > ${lock}/holder.json`]);
    const input = await prepareRigDeploy('nginx', 'v1');
    await withDeployWorker(async ({ start }) => {
      const result = await (await start(input)).result();
      assert.equal(result.outcome, 'succeeded', result.lastError);
    });
    assert.equal(execFileSync('su', ['-', 'deploy', '-c', `test -e ${lock} && echo held || echo free`], { encoding: 'utf8' }).trim(), 'free');
  });

  it('activities are idempotent: a repeated scale-up adds nothing, a repeated stop accepts a gone container', async () => {
    resetStack('nginx');
    const input = await prepareRigDeploy('nginx', 'v1');
    const transport = rigSshTransport();
    try {
      const activities = createActivities(transport);
      const old = await activities.listContainers(input.target, 'server');
      assert.equal(old.length, 1);
      const first = await activities.startBeside(input.target, 'server', old, 1);
      const again = await activities.startBeside(input.target, 'server', old, 1);
      assert.equal(first.length, 1);
      assert.deepEqual(again, first, 'the retry found the container it had made');
      assert.equal((await activities.listContainers(input.target, 'server')).length, 2, 'no third container');
      await activities.stopAndRemove(input.target, first, 10_000);
      await activities.stopAndRemove(input.target, first, 10_000);
      assert.deepEqual(await activities.listContainers(input.target, 'server'), old);
    } finally {
      await transport.close();
    }
  });
});
