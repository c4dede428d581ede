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
import { prepareRigDeploy, resetStack, withDeployWorker } from '../support/deploy';
import { formatReport, startLoad, type LoadReport } from '../support/load';
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

function load(name: 'traefik' | 'nginx') {
  return startLoad({ url: `${rig.stacks[name].url}/api/`, paths: ['/api/', '/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000, timeoutMs: 5_000 });
}

function record(key: string, result: DeployResult, report: LoadReport, ms: number) {
  results[key] = { outcome: result.outcome, total: report.total, failed: report.failed, retriedStaleConnections: report.retriedStaleConnections, failures: report.failures, longestFailureWindowMs: report.longestFailureWindowMs, p99Ms: report.latencyMs.p99, versions: report.versions, deploySeconds: Math.round(ms / 100) / 10 };
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
        const traffic = load(name);
        const t0 = Date.now();
        const handle = await start(input);
        const result = await handle.result();
        const report = await traffic.stop();
        record(`${name}: v1 -> v2`, result, report, Date.now() - t0);
        // Filterable in the Temporal UI: environment, ref, status, services.
        const described = await handle.describe();
        assert.equal(described.typedSearchAttributes.get(searchAttributes.environment), name);
        assert.equal(described.typedSearchAttributes.get(searchAttributes.ref), 'v2');
        assert.equal(described.typedSearchAttributes.get(searchAttributes.status), 'succeeded');
        assert.deepEqual(described.typedSearchAttributes.get(searchAttributes.services), ['server']);
        assert.match(String((described.memo as { plan?: string } | undefined)?.plan), /server: deploy start-first/);
        assert.equal(result.outcome, 'succeeded', result.lastError);
        assert.equal(report.failed, 0, formatReport(report));
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
      assert.equal((JSON.parse(ledger) as { deployId: string; result: string }).deployId, input.deployId);
    });

    it('a version that never becomes healthy rolls back: 0 failed requests, v1 still serving', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const imageBefore = deployUser(`docker image inspect -f '{{.Id}}' shop-${name}-server`);
      const workersBefore = proxyWorkers(name);
      const input = await prepareRigDeploy(name, 'never-healthy');
      await withDeployWorker(async ({ start }) => {
        const traffic = load(name);
        const t0 = Date.now();
        const result = await (await start(input)).result();
        const report = await traffic.stop();
        record(`${name}: never-healthy rollback`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'rolled_back');
        assert.match(result.lastError ?? '', /unhealthy/);
        assert.equal(result.services.server?.state, 'rolled-back');
        assert.equal(report.failed, 0, formatReport(report));
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

    it('a crash inside the bake window rolls back to v1 (start-first, from the kept image)', async () => {
      resetStack(name);
      const input = await prepareRigDeploy(name, 'crash-after-healthy', { bakeMs: 15_000 });
      await withDeployWorker(async ({ start }) => {
        const traffic = load(name);
        const t0 = Date.now();
        const result = await (await start(input)).result();
        const report = await traffic.stop();
        record(`${name}: crash in bake window`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'rolled_back');
        assert.match(result.lastError ?? '', /bake window/);
        assert.ok(result.timeline.some((t) => t.phase === 'baking'));
        // The crash itself drops the requests the crashing container held; the rollback adds none after.
        const tail = await Promise.all(Array.from({ length: 10 }, () => answeringVersion(name)));
        assert.deepEqual([...new Set(tail)], ['v1']);
      });
      assert.equal(serverContainers(name).length, 1);
      assert.equal(checkedOutTag(name), 'v1');
    });

    it('abort during the health wait rolls back with 0 failed requests', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const input = await prepareRigDeploy(name, 'never-healthy');
      await withDeployWorker(async ({ start }) => {
        const traffic = load(name);
        const t0 = Date.now();
        const handle = await start(input);
        await waitForStatus(handle, (s) => s.services.server?.state === 'waiting-healthy');
        await handle.signal(abortSignal, { reason: 'test: abort while waiting for health' });
        const result = await handle.result();
        const report = await traffic.stop();
        record(`${name}: abort during health wait`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'aborted');
        assert.equal(result.abortReason, 'test: abort while waiting for health');
        assert.equal(report.failed, 0, formatReport(report));
      });
      assert.deepEqual(serverContainers(name), before);
      assert.equal(checkedOutTag(name), 'v1');
    });

    it('abort after the server was switched rolls back with 0 failed requests', async () => {
      resetStack(name);
      const before = serverContainers(name);
      const input = await prepareRigDeploy(name, 'v2');
      await withDeployWorker(async ({ start }) => {
        const traffic = load(name);
        const t0 = Date.now();
        const handle = await start(input);
        await waitForStatus(handle, (s) => s.services.server?.state === 'draining');
        await handle.signal(abortSignal, { reason: 'test: abort after switch' });
        const result = await handle.result();
        const report = await traffic.stop();
        record(`${name}: abort after switch`, result, report, Date.now() - t0);
        assert.equal(result.outcome, 'aborted');
        assert.equal(report.failed, 0, formatReport(report));
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
      const status = await handle.query(statusQuery);
      assert.equal(status.outcome, 'aborted');
      assert.equal(status.services.server?.state, 'rolled-back');
    });
    assert.deepEqual(serverContainers('traefik'), before);
    assert.equal(checkedOutTag('traefik'), 'v1');
  });
});
