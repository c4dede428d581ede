/**
 * Deploys survive what kills other tools: the worker process dies mid-deploy
 * (a new worker finishes it, from history), and the SSH connection to the VPS
 * drops mid-step (the step is retried over a new connection). Both under load,
 * with no failed request.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeploy } from '../../src/client/deploy';
import type { DeployStatus } from '../../src/deploy/types';
import { statusQuery } from '../../src/messages';
import { prepareRigDeploy, resetStack, withDeployWorker } from '../support/deploy';
import { formatReport, startLoad } from '../support/load';
import { loadRig, rigClient, uniqueTaskQueue } from '../support/rig';

const rig = loadRig();
const root = path.resolve(__dirname, '../..');

function startWorkerProcess(taskQueue: string): ChildProcess {
  const main = path.join(root, 'dist/worker/main.js');
  assert.ok(existsSync(main), `${main} is missing: run npm run build`);
  return spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: rig.temporal.address, TEMPORAL_NAMESPACE: rig.temporal.namespace, COMPOSURE_TASK_QUEUE: taskQueue },
    stdio: 'ignore',
  });
}

async function until(read: () => Promise<DeployStatus>, predicate: (s: DeployStatus) => boolean, limitMs = 60_000): Promise<DeployStatus> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = await read();
    if (predicate(status)) return status;
    if (status.phase === 'done' || Date.now() > deadline) assert.fail(`status never matched: ${JSON.stringify(status)}`);
    await sleep(100);
  }
}

describe('durability', { concurrency: false }, () => {
  it('the worker is killed mid-deploy; a new worker finishes it with 0 failed requests', async () => {
    resetStack('traefik');
    const input = await prepareRigDeploy('traefik', 'v2');
    const taskQueue = uniqueTaskQueue('crash');
    const { client, close } = await rigClient();
    const first = startWorkerProcess(taskQueue);
    let second: ChildProcess | undefined;
    const traffic = startLoad({ url: `${rig.stacks.traefik.url}/api/`, paths: ['/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
    try {
      const handle = await startDeploy(client, input, { taskQueue });
      await until(() => handle.query(statusQuery), (s) => s.services.server?.state === 'draining');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      second = startWorkerProcess(taskQueue);
      const result = await handle.result();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      assert.equal(report.failed, 0, formatReport(report));
      const history = await handle.fetchHistory();
      const workers = new Set((history.events ?? []).map((e) => e.workflowTaskStartedEventAttributes?.identity).filter(Boolean));
      assert.ok(workers.size >= 2, `two workers ran the workflow: ${[...workers].join(', ')}`);
    } finally {
      await traffic.stop();
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
      await close();
    }
    assert.equal((await fetch(`${rig.stacks.traefik.url}/api/`)).headers.get('x-app-version'), 'v2');
  });

  it('the SSH connection drops mid-step; the step is retried over a new connection', async () => {
    resetStack('nginx');
    const input = await prepareRigDeploy('nginx', 'v2');
    await withDeployWorker(async ({ start }) => {
      const traffic = startLoad({ url: `${rig.stacks.nginx.url}/api/`, paths: ['/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
      const handle = await start(input);
      await until(() => handle.query(statusQuery), (s) => s.services.server?.state === 'stopping-old');
      // Every sshd session of the deploy user: the worker's connection included.
      execFileSync('sh', ['-c', 'pkill -u deploy -x sshd || true']);
      const result = await handle.result();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      assert.equal(report.failed, 0, formatReport(report));
    });
    assert.equal((await fetch(`${rig.stacks.nginx.url}/api/`)).headers.get('x-app-version'), 'v2');
  });
});
