/**
 * Every host command runs once, even when it prints nothing for a long time
 * and even when the worker is stopped in the middle of it. What the tests
 * count comes from the host, not from Composure: the rig's Compose plugin
 * logs every invocation, and Docker's event stream shows every container
 * created and every signal sent.
 *
 * Real apps have steps the fixtures do not: a build stage that compiles for a
 * minute, a migration that works silently, an app that takes a minute to
 * drain. Before timer heartbeats and supervised commands, each of these was
 * timed out by the heartbeat timeout and run again beside the first run.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeploy } from '../../src/client/deploy';
import type { DeployResult } from '../../src/deploy/types';
import { statusQuery } from '../../src/messages';
import { activityAttempts, prepareRigDeploy, resetStack, rigConfigVia, withDeployWorker } from '../support/deploy';
import { composeInvocations, originFile, pushCommit, uniqueTag, watchDockerEvents } from '../support/host-evidence';
import { deployUser, loadRig, rigClient, rigSshTransport, uniqueTaskQueue } from '../support/rig';
import { exited, startWorkerProcess, untilStatus } from '../support/worker-process';

const rig = loadRig();
// The fault matrix's lane: its stacks, Temporal server and sshd (test/rig/fault-matrix.test.ts runs
// there too, one file at a time), so this file runs beside the main lane.
const T = 'fault-traefik' as const;
const N = 'fault-nginx' as const;
const own = { temporalAddress: rig.faults.temporalAddress };
const configFile = (envExtra: Record<string, unknown> = {}) => rigConfigVia(rig.faults.sshPort, envExtra);
const worker = () => ({ ...own, transport: rigSshTransport({ port: rig.faults.sshPort }) });
/** The rig's debootstrap image: a base with a shell, for a build stage (the app's own image is FROM scratch). */
const BUILD_BASE = 'composure-fixture/debian-nginx:bookworm';

/** A commit whose server build has a stage that works silently for SECONDS (unique, so no layer cache helps). */
function pushSilentBuild(stack: typeof T, seconds: number): string {
  const tag = uniqueTag('silent-build');
  const dockerfile = originFile(stack, 'v2', 'server/Dockerfile');
  const stage = `FROM ${BUILD_BASE} AS compile\nRUN sleep ${seconds} && echo ${tag} > /compiled\n\n`;
  pushCommit(stack, 'v2', tag, { 'server/Dockerfile': `${stage}${dockerfile}\nCOPY --from=compile /compiled /etc/app/compiled\n` });
  return tag;
}

describe('every host command runs once', { concurrency: false }, () => {
  it('a build stage silent for 40 s builds once, and the deploy succeeds', async () => {
    resetStack(T);
    const ref = pushSilentBuild(T, 40);
    const since = Date.now() / 1000;
    const input = await prepareRigDeploy(T, ref, { configFile: configFile() });
    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      const result: DeployResult = await handle.result();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      const builds = composeInvocations(rig.stacks[T].project, since, 'build');
      assert.equal(builds.length, 1, `docker compose build ran ${builds.length} times on the host: ${JSON.stringify(builds)}`);
      const attempts = (await activityAttempts(handle)).filter((a) => a.type === 'build');
      assert.deepEqual(attempts.map((a) => a.attempt), [1], 'one build activity, never retried');
      console.log(`silent build: docker compose build ran ${builds.length}x; build activity attempts ${attempts.map((a) => a.attempt).join(',')}`);
    }, worker());
    assert.equal((await fetch(`${rig.stacks[T].url}/api/`)).headers.get('x-app-version'), 'v2');
  });

  it('a pre-deploy hook silent for 30 s runs once, and the deploy succeeds', async () => {
    resetStack(N);
    const since = Date.now() / 1000;
    const file = configFile({ hooks: { pre_deploy: [{ service: 'server', command: ['migrate', '30'], timeout: '2m' }] } });
    const input = await prepareRigDeploy(N, 'v2', { configFile: file });
    const docker = watchDockerEvents(rig.stacks[N].project);
    await docker.ready;
    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      const result = await handle.result();
      await docker.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      const oneOffs = docker.created('server', 'oneoff');
      const runs = composeInvocations(rig.stacks[N].project, since, 'run');
      assert.equal(oneOffs.length, 1, `hook containers created: ${oneOffs.length}`);
      assert.equal(runs.length, 1, `docker compose run ran ${runs.length} times: ${JSON.stringify(runs)}`);
      const attempts = (await activityAttempts(handle)).filter((a) => a.type === 'runHook');
      assert.deepEqual(attempts.map((a) => a.attempt), [1]);
      console.log(`silent hook: ${oneOffs.length} hook container, docker compose run ${runs.length}x`);
    }, worker());
  });

  it('an app that drains for 70 s (stop_grace_period 90s) is stopped once, and the deploy succeeds', async () => {
    resetStack(T);
    const dir = rig.stacks[T].dir;
    const compose = originFile(T, 'v1', 'docker-compose.yml');
    const slowDrain = compose
      .replace(/(server:[\s\S]*?DRAIN_SECONDS: )"6"/, '$1"70"')
      .replace(/(server:[\s\S]*?stop_grace_period: )30s/, '$190s');
    assert.notEqual(slowDrain, compose);
    const from = uniqueTag('slow-drain');
    pushCommit(T, 'v1', from, { 'docker-compose.yml': slowDrain });
    const to = uniqueTag('slow-drain-v2');
    pushCommit(T, from, to, { 'server/VERSION': 'v2\n' });
    // The running version is the slow drainer: it is the one the deploy must stop.
    deployUser(`cd ${dir} && git fetch -q origin --tags && git checkout -q ${from} && docker compose up -d --wait`);
    const docker = watchDockerEvents(rig.stacks[T].project);
    await docker.ready;
    try {
      const old = deployUser(`docker ps -q --no-trunc --filter label=com.docker.compose.project=${rig.stacks[T].project} --filter label=com.docker.compose.service=server`);
      const input = await prepareRigDeploy(T, to, { configFile: configFile() });
      await withDeployWorker(async ({ start }) => {
        const started = Date.now();
        const handle = await start(input);
        const result = await handle.result();
        await docker.stop();
        assert.equal(result.outcome, 'succeeded', result.lastError);
        const terms = docker.signalsSent('15').get(old) ?? 0;
        assert.equal(terms, 1, `SIGTERM sent to the old container ${terms} times`);
        const stops = (await activityAttempts(handle)).filter((a) => a.type === 'retireOld');
        assert.deepEqual(stops.map((a) => a.attempt), [1], `one step retired the old container, at its first attempt: ${JSON.stringify(stops)}`);
        assert.ok(Date.now() - started > 70_000, 'the deploy waited for the drain');
        console.log(`long drain: SIGTERM sent ${terms}x; deploy took ${Math.round((Date.now() - started) / 1000)} s`);
      }, worker());
    } finally {
      await docker.stop();
      // The slow drainer would make the next reset wait 70 s for it.
      deployUser(`cd ${dir} && docker compose kill server >/dev/null 2>&1 || true`);
    }
  });

  for (const grace of ['2m', '1s'] as const) {
    it(`a worker SIGTERMed mid-build (shutdown grace ${grace}): the build runs once, and another worker finishes the deploy`, async () => {
      resetStack(T);
      const ref = pushSilentBuild(T, 20);
      const since = Date.now() / 1000;
      const input = await prepareRigDeploy(T, ref, { configFile: configFile() });
      const taskQueue = uniqueTaskQueue('shutdown');
      const { client, close } = await rigClient({ ...rig, temporal: { ...rig.temporal, address: rig.faults.temporalAddress } });
      const first = startWorkerProcess(taskQueue, { COMPOSURE_SHUTDOWN_GRACE: grace, TEMPORAL_ADDRESS: rig.faults.temporalAddress });
      let second: ChildProcess | undefined;
      try {
        const handle = await startDeploy(client, input, { taskQueue });
        await untilStatus(() => handle.query(statusQuery), (s) => s.phase === 'building');
        while (composeInvocations(rig.stacks[T].project, since, 'build').length === 0) await sleep(100);
        await sleep(2_000);
        const termAt = Date.now();
        first.kill('SIGTERM');
        second = startWorkerProcess(taskQueue, { TEMPORAL_ADDRESS: rig.faults.temporalAddress });
        const code = await exited(first);
        const stoppedAfter = Date.now() - termAt;
        assert.equal(code, 0, 'the worker exits cleanly on SIGTERM');
        const result = await handle.result();
        assert.equal(result.outcome, 'succeeded', result.lastError);
        const builds = composeInvocations(rig.stacks[T].project, since, 'build');
        assert.equal(builds.length, 1, `docker compose build ran ${builds.length} times: ${JSON.stringify(builds)}`);
        // History keeps the started event of the attempt that finished the step.
        const attempts = (await activityAttempts(handle)).filter((a) => a.type === 'build');
        assert.equal(attempts.length, 1);
        const [finished] = attempts;
        if (grace === '2m') {
          // The grace outlasts the build: the first worker finishes it, then exits.
          assert.equal(finished!.attempt, 1);
          assert.ok(finished!.identity.startsWith(`${first.pid}@`), `the first worker finished the build: ${finished!.identity}`);
          assert.ok(stoppedAfter > 10_000, `the worker stayed for the running build (${stoppedAfter} ms)`);
        } else {
          // The worker let the build go at once; the next attempt, on the other worker, waited for it.
          assert.ok(stoppedAfter < 10_000, `the worker stopped within its grace (${stoppedAfter} ms)`);
          assert.ok(finished!.attempt >= 2, `the build step was retried: ${JSON.stringify(finished)}`);
          assert.ok(finished!.identity.startsWith(`${second.pid}@`), `the retry ran on the other worker: ${finished!.identity}`);
        }
        console.log(`shutdown grace ${grace}: worker exited ${stoppedAfter} ms after SIGTERM; build ran ${builds.length}x; attempts ${attempts.map((a) => a.attempt).join(',')}`);
      } finally {
        first.kill('SIGKILL');
        second?.kill('SIGTERM');
        if (second) await exited(second);
        await close();
      }
    });
  }
});
