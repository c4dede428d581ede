/**
 * `source: { image: { variable: TAG } }` on the real stack: a project on the
 * VPS with no git and no build, whose server image follows $TAG from a real
 * registry on loopback (crane's). The plan reads the next tag without touching
 * the host; a deploy pulls the tag, rolls it out start-first under load and
 * keeps TAG in the project's .env; a tag that never becomes healthy rolls
 * back and .env says v1 again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Plan, ServicePlan } from '../../src/plan/types';
import { runCli, writeRigConfig } from '../support/cli';
import { prepareRigDeploy, resetStack, withDeployWorker } from '../support/deploy';
import { assertNoDowntime, formatReport, resendsAllowed, startLoad } from '../support/load';
import { deployUser, loadRig } from '../support/rig';

const rig = loadRig();
const stack = rig.stacks.images;
const registry = rig.docker.registry;

const dotenv = () => deployUser(`cat ${stack.dir}/.env`);
const serverContainers = () =>
  deployUser(`docker ps -q --no-trunc --filter label=com.docker.compose.project=${stack.project} --filter label=com.docker.compose.service=server`).split('\n').filter(Boolean);
const containerImage = (service: string) =>
  deployUser(`docker ps --format '{{.Image}}' --filter label=com.docker.compose.project=${stack.project} --filter label=com.docker.compose.service=${service}`);
const hasLocalTag = (tag: string) => deployUser(`docker image inspect ${registry}/shop/app:${tag} >/dev/null 2>&1 && echo yes || echo no`) === 'yes';
/** Load on the stack, running: its steady state (before the deploy) is measured when this returns. */
const load = async () => {
  const traffic = startLoad({ url: `${stack.url}/api/`, paths: ['/api/', '/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
  await traffic.steady();
  return traffic;
};

describe('image source (registry tags, no git on the host)', { concurrency: false }, () => {
  it('plan --ref v2: the server changes by tag, the client is pulled and compared, the host is unchanged', async () => {
    resetStack('images');
    const { file } = writeRigConfig();
    const before = `${dotenv()}|${serverContainers().join(',')}`;
    const result = await runCli(['--config', file, 'plan', 'images', '--ref', 'v2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const services = Object.fromEntries((JSON.parse(result.stdout) as Plan).services.map((s) => [s.service, s])) as Record<string, ServicePlan>;
    assert.equal(services.server!.action, 'deploy');
    assert.equal(services.server!.strategy, 'start-first');
    assert.equal(services.server!.changeReason, `image ${registry}/shop/app:v1 -> ${registry}/shop/app:v2`);
    assert.equal(services.client!.change, 'maybe');
    assert.match(services.client!.changeReason, /same image reference .*shop\/app:v1: pulled/);
    assert.equal(services.proxy!.action, 'keep');
    assert.equal(`${dotenv()}|${serverContainers().join(',')}`, before, 'a plan neither writes .env nor touches a container');

    const hostile = await runCli(['--config', file, 'plan', 'images', '--ref', 'v2;id']);
    assert.equal(hostile.code, 2);
    assert.match(hostile.stderr, /image tag/);
  });

  it('deploy v2: pulled from the registry, start-first under load with 0 failed requests, TAG=v2 kept in .env', async () => {
    resetStack('images');
    const before = serverContainers();
    assert.equal(hasLocalTag('v2'), false, 'v2 is only in the registry before the deploy');
    const input = await prepareRigDeploy('images', 'v2');
    await withDeployWorker(async ({ start }) => {
      const traffic = await load();
      const result = await (await start(input)).result();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      assertNoDowntime(report, { resends: resendsAllowed('traefik') });
      assert.ok(report.versions.v1! > 0 && report.versions.v2! > 0, formatReport(report));
      assert.equal(result.services.server?.state, 'done');
      assert.equal(result.services.client?.state, 'skipped', 'the client image did not change in the registry');
      assert.match(result.services.client?.reason ?? '', /image unchanged/);
    });
    assert.equal(hasLocalTag('v2'), true, 'the deploy pulled v2');
    assert.equal(containerImage('server'), `${registry}/shop/app:v2`);
    assert.equal(containerImage('client'), `${registry}/shop/app:v1`);
    assert.ok(!before.includes(serverContainers()[0]!), 'the old server container is gone');
    assert.match(dotenv(), /^TAG=v2$/m, 'docker compose on the host sees the deployed tag');
    // Compose itself, run by hand on the host, agrees with what runs.
    assert.equal(deployUser(`cd ${stack.dir} && docker compose config --images server`), `${registry}/shop/app:v2`);
    const ledger = JSON.parse(deployUser(`tail -n 1 ${stack.dir}/.composure/releases.jsonl`)) as { ref: string; result: string };
    assert.deepEqual([ledger.ref, ledger.result], ['v2', 'succeeded']);
  });

  it('a tag that never becomes healthy rolls back: 0 failed requests, v1 serving, TAG=v1 in .env again', async () => {
    resetStack('images');
    const before = serverContainers();
    const input = await prepareRigDeploy('images', 'never-healthy');
    await withDeployWorker(async ({ start }) => {
      const traffic = await load();
      const result = await (await start(input)).result();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'rolled_back');
      assert.match(result.lastError ?? '', /unhealthy/);
      assertNoDowntime(report, { resends: resendsAllowed('traefik') });
      assert.deepEqual(Object.keys(report.versions), ['v1']);
    });
    assert.deepEqual(serverContainers(), before, 'the old container kept serving throughout');
    assert.equal(containerImage('server'), `${registry}/shop/app:v1`);
    assert.equal(dotenv(), 'TAG=v1', '.env is restored');
    assert.equal(deployUser(`test -d ${stack.dir}/.composure/lock && echo held || echo free`), 'free');
  });
});
