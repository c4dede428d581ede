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
import { prepareRigDeploy, recordHistory, resetStack, rollbackSwitchedAt, withDeployWorker } from '../support/deploy';
import { assertNoDowntime, failedSince, formatReport, startLoad } from '../support/load';
import { watchDockerEvents } from '../support/host-evidence';
import { deployUser, loadRig } from '../support/rig';

const rig = loadRig();
const stack = rig.stacks.images;
const OVERRIDE = 'batches.override.yml';

const serverFilter = ['--filter', `label=com.docker.compose.project=${stack.project}`, '--filter', 'label=com.docker.compose.service=server'];
const serverImages = () => deployUser(`docker ps --format '{{.Image}}' ${serverFilter.join(' ')}`).split('\n').filter(Boolean).sort();

/** Samples the server's container count every 100 ms without blocking the event loop (the worker and the load run here). */
function watchContainerCount(): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { stdout } = await promisify(execFile)('docker', ['ps', '-q', ...serverFilter]);
      samples.push(stdout.split('\n').filter(Boolean).length);
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
      const samples = await counts.stop();
      const report = await traffic.stop();
      const events = await docker.stop();
      // Measured, not asserted: the crashing batch keeps crashing (Docker restarts it) until the
      // rollback stops it, and the rollback does not yet take it out of rotation first, so requests
      // are lost after the rollback's switch too (README, Limits).
      const crash = events.find((e) => e.Type === 'container' && e.Action === 'die' && e.Actor.Attributes.exitCode === '3');
      assert.ok(crash, 'a new server crashed (exit 3)');
      const lost = failedSince(report, await rollbackSwitchedAt(handle, crash.timeNano / 1e6));
      console.log(`batched crash: ${report.failed - lost.length} failed before the rollback's switch, ${lost.length} after it; ${formatReport(report)}`);
      assert.equal(result.outcome, 'rolled_back');
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
