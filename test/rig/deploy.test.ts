/**
 * The deploy workflow on the real stack, for both proxies, under constant
 * load (50 req/s across /api/, and the 1 s /api/slow): v1 -> v2 loses no
 * request; a never-healthy version rolls back and v1 keeps serving; a crash
 * inside the bake window rolls back; an abort during the health wait or after
 * the switch rolls back without losing a request; a second deploy to the
 * same environment is refused; a deploy with nothing changed is a no-op.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { DeployResult, DeployStatus } from '../../src/deploy/types';
import { abortSignal, searchAttributes, statusQuery } from '../../src/messages';
import type { deployWorkflow } from '../../workflows/deploy/workflow';
import { prepareRigDeploy, recordHistory, resetStack, rollbackSwitchedAt, stepTimes, withDeployWorker } from '../support/deploy';
import { assertNoDowntime, failedSince, formatReport, requestEvents, resendsAllowed, startLoad, type LoadReport } from '../support/load';
import { formatTimeline, originFile, pushCommit, uniqueTag, watchDockerEvents } from '../support/host-evidence';
import { parse, stringify } from 'yaml';
import { deployUser, loadRig } from '../support/rig';

const rig = loadRig();
const results: Record<string, unknown> = {};
const RESULTS_DIR = path.resolve(__dirname, '../../bench/results');

function serverContainers(name: 'traefik' | 'nginx'): string[] {
  return deployUser(`docker ps -q --no-trunc --filter label=com.docker.compose.project=shop-${name} --filter label=com.docker.compose.service=server`)
    .split('\n')
    .filter(Boolean);
}

async function answeringVersion(name: 'traefik' | 'nginx'): Promise<string | null> {
  const response = await fetch(`${rig.stacks[name].url}/api/`);
  return response.headers.get('x-app-version');
}

function checkedOutTag(name: 'traefik' | 'nginx'): string {
  return deployUser(`cd apps/shop-${name} && git describe --tags --exact-match HEAD`);
}

/** The proxy's worker processes: an nginx reload replaces them, so an unchanged list means no reload. */
function proxyWorkers(name: 'traefik' | 'nginx'): string {
  const proxy = deployUser(`docker ps -q --filter label=com.docker.compose.project=shop-${name} --filter label=com.docker.compose.service=proxy`);
  return deployUser(`docker top ${proxy} -o pid,args`).split('\n').filter((l) => l.includes('worker process')).join('\n');
}

function lockHeld(name: 'traefik' | 'nginx'): boolean {
  return deployUser(`test -d apps/shop-${name}/.composure/lock && echo yes || echo no`) === 'yes';
}

async function waitForStatus(handle: WorkflowHandle<typeof deployWorkflow>, predicate: (s: DeployStatus) => boolean, limitMs = 60_000): Promise<DeployStatus> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (predicate(status)) return status;
    if (status.phase === 'done' || Date.now() > deadline) assert.fail(`status never matched; last: ${JSON.stringify(status)}`);
    await sleep(100);
  }
}

/** Load on the stack, running: its steady state (before the deploy) is measured when this returns. */
async function load(name: 'traefik' | 'nginx') {
  const traffic = startLoad({ url: `${rig.stacks[name].url}/api/`, paths: ['/api/', '/api/', '/api/', '/api/slow', '/'], ratePerSecond: 50, durationMs: 180_000, timeoutMs: 5_000 });
  await traffic.steady();
  return traffic;
}

/** Load and Docker's events on the stack; `explain` lays out both on one timeline for a failed assertion. */
async function observe(name: 'traefik' | 'nginx') {
  const docker = watchDockerEvents(`shop-${name}`);
  await docker.ready;
  const traffic = await load(name);
  const t0 = Date.now();
  return { traffic, docker, explain: (report: LoadReport) => formatTimeline(docker.events, t0, requestEvents(report)) };
}

/** A release whose server crashes (exit 3) CRASH_AFTER seconds after it became healthy, pushed as a fresh tag. */
function crashingRelease(name: 'traefik' | 'nginx', crashAfterSeconds: number): string {
  const tag = uniqueTag(`crash-${crashAfterSeconds}s`);
  const compose = parse(originFile(name, 'crash-after-healthy', 'docker-compose.yml')) as { services: { server: { environment: Record<string, string> } } };
  compose.services.server.environment.CRASH_AFTER_SECONDS = String(crashAfterSeconds);
  pushCommit(name, 'crash-after-healthy', tag, { 'docker-compose.yml': stringify(compose) });
  return tag;
}

const serverImage = (id: string) => deployUser(`docker inspect -f '{{.Image}}' ${id}`);

function record(key: string, result: DeployResult, report: LoadReport, ms: number) {
  results[key] = { outcome: result.outcome, total: report.total, failed: report.failed, retriedStaleConnections: report.retriedStaleConnections, failures: report.failures, longestFailureWindowMs: report.longestFailureWindowMs, p99Ms: report.latencyMs.p99, steady: report.steadyLatencyMs, duringDeploy: report.deployLatencyMs, versions: report.versions, deploySeconds: Math.round(ms / 100) / 10 };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, 'deploy-tests.json');
  // Merged, so a run of a few tests (--test-name-pattern) updates its rows and keeps the rest.
  const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...earlier, ...results }, null, 2) + '\n');
}

for (const name of ['traefik', 'nginx'] as const) {
  describe(`deploy under load behind ${name}`, { concurrency: false }, () => {
    it('v1 -> v2: succeeds with 0 failed requests; v2 serves alone; ledger written, lock released', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const input = await prepareRigDeploy(name, 'v2');
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const handle = await start(input);
        const result = await handle.result();
        await recordHistory(handle, `deploy-${name}-v2-one-step-retire`);
        const report = await traffic.stop();
        await docker.stop();
        record(`${name}: v1 -> v2`, result, report, Date.now() - t0);
        // Filterable in the Temporal UI: environment, ref, status, services.
        const described = await handle.describe();
        assert.equal(described.typedSearchAttributes.get(searchAttributes.environment), name);
        assert.equal(described.typedSearchAttributes.get(searchAttributes.ref), 'v2');
        assert.equal(described.typedSearchAttributes.get(searchAttributes.status), 'succeeded');
        assert.deepEqual(described.typedSearchAttributes.get(searchAttributes.services), ['server']);
        assert.match(String((described.memo as { plan?: string } | undefined)?.plan), /server: deploy start-first/);
        assert.equal(result.outcome, 'succeeded', result.lastError);
        assertNoDowntime(report, { resends: resendsAllowed(name), explain });
        assert.ok(report.versions.v1! > 0 && report.versions.v2! > 0, formatReport(report));
        assert.equal(result.services.server?.state, 'done');
        assert.equal(result.services.client?.state, 'skipped');
        assert.equal(result.services.proxy?.state, 'kept');
      });
      assert.equal(await answeringVersion(name), 'v2');
      const after = serverContainers(name);
      assert.equal(after.length, 1, 'one server container again');
      assert.ok(!before.includes(after[0]!), 'the old container is gone');
      assert.equal(checkedOutTag(name), 'v2');
      assert.equal(lockHeld(name), false);
      const ledger = deployUser(`tail -n 1 apps/shop-${name}/.composure/releases.jsonl`);
      const release = JSON.parse(ledger) as { deployId: string; result: string; ref: string };
      assert.deepEqual([release.deployId, release.result, release.ref], [input.deployId, 'succeeded', 'v2']);
    });

    it('a version that never becomes healthy rolls back: 0 failed requests, v1 still serving', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const imageBefore = deployUser(`docker image inspect -f '{{.Id}}' shop-${name}-server`);
      const workersBefore = proxyWorkers(name);
      const input = await prepareRigDeploy(name, 'never-healthy');
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const result = await (await start(input)).result();
        const report = await traffic.stop();
        await docker.stop();
        record(`${name}: never-healthy rollback`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'rolled_back');
        assert.match(result.lastError ?? '', /unhealthy/);
        assert.equal(result.services.server?.state, 'rolled-back');
        assertNoDowntime(report, { resends: resendsAllowed(name), explain });
        assert.deepEqual(Object.keys(report.versions), ['v1'], 'the broken version never took traffic');
      });
      assert.deepEqual(serverContainers(name), before, 'the old container kept serving throughout');
      if (name === 'nginx') {
        assert.ok(workersBefore, 'nginx worker processes are listed');
        assert.equal(proxyWorkers(name), workersBefore, 'nginx was never reloaded: the broken version never reached its config');
      }
      assert.equal(checkedOutTag(name), 'v1', 'the checkout is restored');
      assert.equal(deployUser(`docker image inspect -f '{{.Id}}' shop-${name}-server`), imageBefore, 'the image name points at v1 again');
      assert.equal(lockHeld(name), false);
    });

    it('a crash during the drain fails the rollout before the old container stops: it never gets SIGTERM and serves on', async () => {
      resetStack(name);
      const before = serverContainers(name);
      // Crashes 4 s after it starts: healthy by then, switched to, and inside the 5 s drain.
      const tag = crashingRelease(name, 3);
      const input = await prepareRigDeploy(name, tag);
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const handle = await start(input);
        const result = await handle.result();
        await recordHistory(handle, `deploy-${name}-crash-during-drain`);
        const report = await traffic.stop();
        await docker.stop();
        record(`${name}: crash during drain`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'rolled_back', result.lastError);
        assert.match(result.lastError ?? '', /restarted|exited/);
        assert.equal(docker.signalsSent('15').get(before[0]!), undefined, 'the old container was never stopped');
        const steps = await stepTimes(handle);
        assert.ok(!steps.some((s) => s.type === 'watchHealthy' && s.completedAt), `the drain's watch failed: ${steps.map((s) => s.type).join(', ')}`);
        // Once the rollback has stopped the crashing container and given the proxy back to the old one, nothing fails.
        const undone = steps.filter((s) => s.type === 'retireOld').at(-1)?.completedAt;
        assert.ok(undone, 'the rollback retired the new container');
        assert.deepEqual(failedSince(report, undone), [], `${formatReport(report)}\n${explain(report)}`);
        console.log(`${name}: crash during drain: ${report.failed} failed before the rollback retired the crashing container; ${formatReport(report)}`);
      });
      assert.deepEqual(serverContainers(name), before, 'the old container kept serving throughout');
      assert.equal(await answeringVersion(name), 'v1');
      assert.equal(checkedOutTag(name), 'v1');
    });

    it('a crash inside the bake window, after the old container is gone, rolls back start-first from the kept image; the rollback loses no request', async () => {
      resetStack(name);
      const v1Image = deployUser(`docker image inspect -f '{{.Id}}' shop-${name}-server`);
      // Crashes 17 s after it starts: after the drain and the old container's stop, inside the 15 s bake window.
      const tag = crashingRelease(name, 16);
      const input = await prepareRigDeploy(name, tag, { bakeMs: 15_000 });
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const handle = await start(input);
        const result = await handle.result();
        await recordHistory(handle, `deploy-${name}-crash-in-bake`);
        const report = await traffic.stop();
        const events = await docker.stop();
        record(`${name}: crash in bake window`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'rolled_back', result.lastError);
        assert.match(result.lastError ?? '', /bake window/);
        assert.ok(result.timeline.some((t) => t.phase === 'baking'));
        const server = (e: (typeof events)[number]) => e.Type === 'container' && e.Actor.Attributes['com.docker.compose.service'] === 'server';
        const crash = events.find((e) => server(e) && e.Action === 'die' && e.Actor.Attributes.exitCode === '3');
        assert.ok(crash, 'the new server crashed (exit 3)');
        const [restored, ...others] = serverContainers(name);
        assert.equal(others.length, 0, 'one server container after the rollback');
        assert.equal(serverImage(restored!), v1Image, 'the restored container runs the image the snapshot kept');
        const healthy = events.find((e) => e.Actor.ID === restored && e.Action === 'health_status: healthy');
        const crashedGone = events.find((e) => e.Actor.ID === crash.Actor.ID && e.Action === 'destroy');
        assert.ok(healthy && crashedGone && healthy.timeNano < crashedGone.timeNano, 'start-first: the restored container was healthy before the crashed one was removed');
        // The crash drops what the crashing container held, and nothing serves until a replacement
        // is healthy and routed; from the rollback's switch to it on, the rollback loses nothing.
        const lost = failedSince(report, await rollbackSwitchedAt(handle, crash.timeNano / 1e6));
        assert.deepEqual(lost, [], `requests lost after the rollback switched to the restored container: ${formatReport(report)}\n${explain(report)}`);
        console.log(`${name}: crash in bake window: ${report.failed - lost.length} failed with the crash, ${lost.length} in the rollback; ${formatReport(report)}`);
        const tail = await Promise.all(Array.from({ length: 10 }, () => answeringVersion(name)));
        assert.deepEqual([...new Set(tail)], ['v1']);
      });
      assert.equal(checkedOutTag(name), 'v1');
    });

    it('a later service that fails after the server switched rolls both back: the server from its kept image, 0 failed requests', async () => {
      resetStack(name);
      const v1Image = deployUser(`docker image inspect -f '{{.Id}}' shop-${name}-server`);
      const tag = uniqueTag('client-broken');
      // A release whose server is fine and whose client never becomes healthy: the server is
      // switched and its old container stopped before the client fails.
      pushCommit(name, 'v1', tag, { 'server/VERSION': 'v2\n', 'client/VERSION': 'v2-never-healthy\n', 'client/MODE': 'never-healthy\n' });
      const input = await prepareRigDeploy(name, tag);
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const result = await (await start(input)).result();
        const report = await traffic.stop();
        await docker.stop();
        record(`${name}: later service fails`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'rolled_back', result.lastError);
        assert.match(result.lastError ?? '', /unhealthy/);
        assert.equal(result.services.server?.state, 'rolled-back');
        assert.equal(result.services.client?.state, 'rolled-back');
        assert.ok((report.versions.v2 ?? 0) > 0, `the new server had taken traffic: ${formatReport(report)}`);
        assertNoDowntime(report, { resends: resendsAllowed(name), explain });
      });
      const [server, ...others] = serverContainers(name);
      assert.equal(others.length, 0);
      assert.equal(serverImage(server!), v1Image, 'the server runs the image the snapshot kept');
      assert.equal(await answeringVersion(name), 'v1');
      assert.equal(checkedOutTag(name), 'v1');
    });

    it('abort during the health wait rolls back with 0 failed requests', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const input = await prepareRigDeploy(name, 'never-healthy');
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const handle = await start(input);
        await waitForStatus(handle, (s) => s.services.server?.state === 'waiting-healthy');
        await handle.signal(abortSignal, { reason: 'test: abort while waiting for health' });
        const result = await handle.result();
        const report = await traffic.stop();
        await docker.stop();
        record(`${name}: abort during health wait`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'aborted');
        assert.equal(result.abortReason, 'test: abort while waiting for health');
        assertNoDowntime(report, { resends: resendsAllowed(name), explain });
      });
      assert.deepEqual(serverContainers(name), before);
      assert.equal(checkedOutTag(name), 'v1');
    });

    it('abort after the server was switched rolls back with 0 failed requests', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const input = await prepareRigDeploy(name, 'v2');
      await withDeployWorker(async ({ start }) => {
        const { traffic, docker, explain } = await observe(name);
        const t0 = Date.now();
        const handle = await start(input);
        await waitForStatus(handle, (s) => s.services.server?.state === 'draining');
        await handle.signal(abortSignal, { reason: 'test: abort after switch' });
        const result = await handle.result();
        const report = await traffic.stop();
        await docker.stop();
        record(`${name}: abort after switch`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'aborted');
        assertNoDowntime(report, { resends: resendsAllowed(name), explain });
        assert.ok((report.versions.v2 ?? 0) > 0, 'v2 had taken traffic before the abort');
      });
      assert.deepEqual(serverContainers(name), before);
      assert.equal(await answeringVersion(name), 'v1');
      assert.equal(checkedOutTag(name), 'v1');
    });
  });
}

describe('one deploy per environment, and no-ops', { concurrency: false }, () => {
  it('a second deploy to the same environment is refused while one runs; --attach joins it', async () => {
    resetStack('traefik');
    const first = await prepareRigDeploy('traefik', 'v2');
    const second = await prepareRigDeploy('traefik', 'client-v2');
    await withDeployWorker(async ({ start }) => {
      const handle = await start(first);
      await assert.rejects(start(second), WorkflowExecutionAlreadyStartedError);
      const attached = await start(second, { attach: true });
      assert.equal(attached.firstExecutionRunId, handle.firstExecutionRunId);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.deployId, first.deployId);
    });
  });

  it('a deploy with nothing changed is a no-op: no container is touched', async () => {
    resetStack('nginx');
    const before = serverContainers('nginx');
    const input = await prepareRigDeploy('nginx', 'v1');
    assert.equal(input.plan.noop, true);
    await withDeployWorker(async ({ start }) => {
      const result = await (await start(input)).result();
      assert.equal(result.outcome, 'succeeded');
      assert.ok(Object.values(result.services).every((s) => s.state === 'skipped' || s.state === 'kept'));
      assert.ok(!result.timeline.some((t) => t.phase === 'rolling-out'), 'nothing was rolled out');
    });
    assert.deepEqual(serverContainers('nginx'), before);
  });

  it('a cancel from Temporal (e.g. the UI) behaves like abort', async () => {
    resetStack('traefik');
    const before = serverContainers('traefik');
    const input = await prepareRigDeploy('traefik', 'never-healthy');
    await withDeployWorker(async ({ start }) => {
      const handle = await start(input);
      await waitForStatus(handle, (s) => s.services.server?.state === 'waiting-healthy');
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      await recordHistory(handle, 'deploy-traefik-cancelled');
      const status = await handle.query(statusQuery);
      assert.equal(status.outcome, 'aborted');
      assert.equal(status.abortReason, 'cancelled from Temporal');
      assert.equal(status.services.server?.state, 'rolled-back');
    });
    assert.deepEqual(serverContainers('traefik'), before);
    assert.equal(checkedOutTag('traefik'), 'v1');
  });
});
