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
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { writeRigConfig } from '../support/cli';
import { formatTimeline, watchDockerEvents } from '../support/host-evidence';
import { prepareRigDeploy, recordHistory, resetStack, withDeployWorker } from '../support/deploy';
import { assertNoDowntime, formatReport, requestEvents, resendsAllowed, startLoad } from '../support/load';
import { deployUser, loadRig, rigSshTransport } from '../support/rig';

const rig = loadRig();

/** The runHook steps of a run, in order: each hook's command (from its input) and output (from its result). */
async function hookOutputs(handle: WorkflowHandle): Promise<Array<{ command: string[]; output: string }>> {
  const decode = (p?: temporal.api.common.v1.IPayload | null) => JSON.parse(Buffer.from(p?.data ?? new Uint8Array()).toString('utf8')) as unknown;
  const events = (await handle.fetchHistory()).events ?? [];
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runHook')
    .map((scheduled) => {
      const [, hook] = scheduled.activityTaskScheduledEventAttributes!.input!.payloads!.map(decode) as [unknown, { command: string[] }];
      const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
      const result = decode(completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]) as { output: string };
      return { command: hook.command, output: result.output };
    });
}

function serverContainers(): string[] {
  return execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', 'label=com.docker.compose.project=shop-nginx', '--filter', 'label=com.docker.compose.service=server'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
}

describe('deploy options', { concurrency: false }, () => {
  it('a pre-deploy hook runs once on the new image before the rollout; a post-deploy hook once after it', async () => {
    resetStack('nginx');
    // Two distinct commands, so each hook's own run can be told apart.
    const pre = ['migrate'];
    const post = ['migrate', '0'];
    const { file } = writeRigConfig({ hooks: { pre_deploy: [{ service: 'server', command: pre }], post_deploy: [{ service: 'server', command: post }] } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    const [old] = serverContainers();
    const docker = watchDockerEvents('shop-nginx');
    await docker.ready;
    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      const result = await handle.result();
      await recordHistory(handle, 'deploy-nginx-hooks');
      await docker.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      // Docker's view: one one-off container per hook; the pre-deploy one created before the new
      // server container, the post-deploy one after the old server container was removed.
      const created = docker.events.filter((e) => e.Type === 'container' && e.Action === 'create' && e.Actor.Attributes['com.docker.compose.service'] === 'server');
      const hooks = created.filter((e) => e.Actor.Attributes['com.docker.compose.oneoff'] === 'True');
      const newServer = created.filter((e) => e.Actor.Attributes['com.docker.compose.oneoff'] !== 'True');
      const oldRemoved = docker.events.find((e) => e.Type === 'container' && e.Action === 'destroy' && e.Actor.ID === old);
      assert.equal(hooks.length, 2, `hook containers: ${hooks.length}`);
      assert.equal(newServer.length, 1);
      assert.ok(oldRemoved, 'the old server container was removed');
      assert.ok(hooks[0]!.timeNano < newServer[0]!.timeNano, 'the pre-deploy hook ran before the new server container existed');
      assert.ok(hooks[1]!.timeNano > oldRemoved.timeNano, 'the post-deploy hook ran after the rollout');
      // Each hook's own result, matched by its command: it ran on the new image.
      const outputs = await hookOutputs(handle);
      assert.deepEqual(
        outputs.map((h) => h.command),
        [pre, post],
      );
      for (const h of outputs) assert.match(h.output, /migrated to v2/, `${h.command.join(' ')} ran on the new image`);
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
      const handle = await start(input);
      const result = await handle.result();
      await recordHistory(handle, 'deploy-nginx-stop-first');
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

  it('proxy.switch { command }: the command runs in the proxy container at each switch, with zero downtime under load', async () => {
    resetStack('nginx');
    const { file } = writeRigConfig({ proxy: { service: 'proxy', switch: { command: ['nginx', '-s', 'reload'] } } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    const docker = watchDockerEvents('shop-nginx');
    await docker.ready;
    await withDeployWorker(async ({ start }) => {
      const traffic = startLoad({ url: `${rig.stacks.nginx.url}/api/`, paths: ['/api/', '/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 120_000 });
      await traffic.steady();
      const t0 = Date.now();
      const result = await (await start(input)).result();
      const report = await traffic.stop();
      const events = await docker.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      // Docker's view: `docker exec` of exactly that argv in the proxy container, once the new
      // container serves and once the old one is gone.
      const execs = events.filter((e) => e.Action.startsWith('exec_start') && e.Actor.Attributes['com.docker.compose.service'] === 'proxy');
      assert.deepEqual(execs.map((e) => e.Action), ['exec_start: nginx -s reload', 'exec_start: nginx -s reload'], formatTimeline(events, t0));
      assertNoDowntime(report, { resends: resendsAllowed('nginx'), explain: (r) => formatTimeline(events, t0, requestEvents(r)) });
    });
  });

  it('proxy.switch none: the proxy is never touched (nginx keeps its workers), and the deploy succeeds', async () => {
    resetStack('nginx');
    const { file } = writeRigConfig({ proxy: { service: 'proxy', switch: 'none' } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    const docker = watchDockerEvents('shop-nginx');
    await docker.ready;
    await withDeployWorker(async ({ start }) => {
      const result = await (await start(input)).result();
      const events = await docker.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      // Container events only: the snapshot tags every service's image, the proxy's included.
      const proxyEvents = events.filter((e) => e.Type === 'container' && e.Actor.Attributes['com.docker.compose.service'] === 'proxy');
      assert.deepEqual(proxyEvents.map((e) => e.Action), [], 'no signal, exec or restart reached the proxy container');
    });
    assert.equal(serverContainers().length, 1);
  });

  it('retention.releases: the newest N rollback tags of each service stay, older ones are removed', async () => {
    resetStack('nginx');
    const repository = 'composure-rollback/shop-nginx-server';
    // Snapshots as earlier deploys would have left them (deploy ids sort by time).
    const older = ['d20200101000000aaaaaa', 'd20200102000000aaaaaa', 'd20200103000000aaaaaa'];
    for (const id of older) deployUser(`docker tag shop-nginx-server ${repository}:${id}`);
    const { file } = writeRigConfig({ retention: { releases: 2 } });
    const input = await prepareRigDeploy('nginx', 'v2', { configFile: file });
    await withDeployWorker(async ({ start }) => {
      const result = await (await start(input)).result();
      assert.equal(result.outcome, 'succeeded', result.lastError);
    });
    const tags = deployUser(`docker image ls --format '{{.Tag}}' ${repository}`).split('\n').filter(Boolean);
    assert.equal(tags.length, 2, `two rollback tags kept: ${tags.join(', ')}`);
    assert.ok(tags.includes(input.deployId), `this deploy's snapshot is kept: ${tags.join(', ')}`);
    for (const id of older) assert.ok(!tags.includes(id), `${id} was removed: ${tags.join(', ')}`);
  });
});
