/**
 * deploy.update_config.parallelism and delay on the real stack: a server with
 * three replicas and `parallelism: 2` rolls out in two batches (two, then the
 * last one), so at most two extra containers ever run, with no failed request
 * under load.
 * A batch that crashes after it took traffic rolls everything back: exactly
 * the old containers stopped so far come back, and three v1 containers serve.
 * (The image-sourced stack is used: it has no git checkout that an override
 * file would make dirty.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { writeRigConfig } from '../support/cli';
import { prepareRigDeploy, recordHistory, resetStack, rollbackSwitchedAt, stepTimes, withDeployWorker } from '../support/deploy';
import { assertNoDowntime, failedSince, formatReport, notHeldByCrashes, requestEvents, startLoad } from '../support/load';
import { formatTimeline, watchDockerEvents, type DockerEvent } from '../support/host-evidence';
import { deployUser, loadRig } from '../support/rig';

const rig = loadRig();
const stack = rig.stacks.images;
const OVERRIDE = 'batches.override.yml';

const serverFilter = ['--filter', `label=com.docker.compose.project=${stack.project}`, '--filter', 'label=com.docker.compose.service=server'];
const serverImages = () => deployUser(`docker ps --format '{{.Image}}' ${serverFilter.join(' ')}`).split('\n').filter(Boolean).sort();

/**
 * Samples the server's container count every 100 ms without blocking the event loop (the worker
 * and the load run here): those running, and those that crashed (exit 3) and stay down, which
 * Composure did not stop.
 */
function watchContainerCount(): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const lines = async (extra: string[]) => (await promisify(execFile)('docker', ['ps', '-q', ...extra, ...serverFilter])).stdout.split('\n').filter(Boolean).length;
  const loop = (async () => {
    while (running) {
      const [up, crashed] = await Promise.all([lines([]), lines(['--all', '--filter', 'exited=3'])]);
      samples.push(up + crashed);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

describe('update_config.parallelism: batches, start-first', { concurrency: false }, () => {
  let configFile = '';
  before(() => {
    deployUser(
      `cd ${stack.dir} && printf '%s\\n' 'services:' '  server:' '    deploy:' '      replicas: 3' '      update_config: { parallelism: 2, delay: 1s, order: start-first }' > ${OVERRIDE}`,
    );
    // Every environment gets the override; only `images` is deployed here.
    configFile = writeRigConfig({ compose_files: ['docker-compose.yml', OVERRIDE], drain: '1s' }).file;
  });
  after(() => {
    deployUser(`rm -f ${stack.dir}/${OVERRIDE}`);
    resetStack('images');
  });

  const threeAtV1 = () => {
    resetStack('images');
    deployUser(`cd ${stack.dir} && docker compose -f docker-compose.yml -f ${OVERRIDE} up -d --wait --scale server=3 server`);
    assert.deepEqual(serverImages(), Array(3).fill(`${rig.docker.registry}/shop/app:v1`));
  };

  it('3 replicas, parallelism 2: two batches, two extra containers at most, 0 failed requests, 3 v2 containers after', async () => {
    threeAtV1();
    const input = await prepareRigDeploy('images', 'v2', { configFile });
    const server = input.plan.services.find((s) => s.service === 'server')!;
    assert.deepEqual([server.replicas, server.parallelism, server.batchDelayMs], [3, 2, 1000]);
    assert.match(server.reasons.join(' '), /3 new containers, 2 at a time with 1s between batches/);
    await withDeployWorker(async ({ start }) => {
      const traffic = startLoad({ url: `${stack.url}/api/`, paths: ['/api/', '/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
      await traffic.steady();
      const counts = watchContainerCount();
      const handle = await start(input);
      const result = await handle.result();
      await recordHistory(handle, 'deploy-images-batches-v2-drain-watched');
      const samples = await counts.stop();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      assertNoDowntime(report);
      assert.equal(Math.max(...samples), 5, `never more than two extra containers (samples: ${samples.join(',')})`);
      assert.ok(Math.min(...samples) >= 3, `never fewer than three serving (samples: ${samples.join(',')})`);
      // Two batches: two scale-ups, each a separate activity.
      const history = await handle.fetchHistory();
      const scaleUps = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startBeside');
      assert.equal(scaleUps.length, 2);
    });
    assert.deepEqual(serverImages(), Array(3).fill(`${rig.docker.registry}/shop/app:v2`));
  });

  it('a batch that crashes after taking traffic rolls back: the old containers stopped so far come back, 3 at v1', async () => {
    threeAtV1();
    const input = await prepareRigDeploy('images', 'crash-after-healthy', { configFile, bakeMs: 15_000 });
    const docker = watchDockerEvents(stack.project);
    await docker.ready;
    await withDeployWorker(async ({ start }) => {
      const traffic = startLoad({ url: `${stack.url}/api/`, paths: ['/api/', '/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
      await traffic.steady();
      const counts = watchContainerCount();
      const handle = await start(input);
      const result = await handle.result();
      await recordHistory(handle, 'deploy-images-batches-crash-holds-restarts');
      const samples = await counts.stop();
      const report = await traffic.stop();
      const events = await docker.stop();
      assert.equal(result.outcome, 'rolled_back', result.lastError);
      const crashImage = `${rig.docker.registry}/shop/app:crash-after-healthy`;
      const ofCrashImage = (e: DockerEvent) => e.Type === 'container' && e.Actor.Attributes.image === crashImage;
      const crashes = events.filter((e) => ofCrashImage(e) && e.Action === 'die' && e.Actor.Attributes.exitCode === '3').map((e) => e.timeNano / 1e6);
      assert.ok(crashes.length > 0, 'a new server crashed (exit 3)');
      const steps = await stepTimes(handle);
      const explain = () => formatTimeline(events, crashes[0]! - 30_000, [...requestEvents(report), ...steps.map((s) => ({ at: s.scheduledAt, what: `step ${s.type}` }))]);
      // The rollback's first step keeps a crashed new container down: none starts again after it.
      const held = steps.find((s) => s.type === 'holdRestarts')?.completedAt;
      assert.ok(held, `the rollback holds the new containers' restarts: ${steps.map((s) => s.type).join(', ')}`);
      const restarted = events.filter((e) => ofCrashImage(e) && /^(start|restart)$/.test(e.Action) && e.timeNano / 1e6 > held);
      assert.equal(restarted.length, 0, `no crashed container came back once the rollback began\n${explain()}`);
      // What the crashing containers held when they died is the crash's loss; nothing else may fail
      // once the rollback switched to the restored containers.
      const switched = await rollbackSwitchedAt(handle, crashes[0]!);
      const lost = notHeldByCrashes(failedSince(report, switched), crashes);
      console.log(`batched crash: ${report.failed} failed (${report.failed - failedSince(report, switched).length} before the rollback's switch), ${lost.length} after it not held by a crash; ${formatReport(report)}`);
      assert.equal(lost.length, 0, `the rollback lost no request after its switch\n${explain()}`);
      assert.match(result.lastError ?? '', /restarted|exited/);
      assert.equal(result.services.server?.state, 'rolled-back');
      // The rollback is start-first too: the restored containers run before the new ones stop,
      // and the unfinished batch goes first, so the bound of two extra holds throughout.
      assert.ok(Math.min(...samples) >= 3, `never fewer than three running (samples: ${samples.join(',')})`);
      assert.ok(Math.max(...samples) <= 5, `never more than two extra containers (samples: ${samples.join(',')})`);
    });
    assert.deepEqual(serverImages(), Array(3).fill(`${rig.docker.registry}/shop/app:v1`), 'three v1 containers, as before');
    assert.equal(deployUser(`cat ${stack.dir}/.env`), 'TAG=v1');
  });
});
