/**
 * Deploys survive what kills other tools: the worker process dies mid-deploy
 * (a new worker finishes it, from history), and the SSH connection to the VPS
 * drops mid-step (the step is retried over a new connection). Both under load,
 * with no failed request.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { startDeploy } from '../../src/client/deploy';
import { statusQuery } from '../../src/messages';
import { activityAttempts, prepareRigDeploy, resetStack, withDeployWorker } from '../support/deploy';
import { assertNoDowntime, resendsAllowed, startLoad } from '../support/load';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchDockerEvents } from '../support/host-evidence';
import { loadRig, rigClient, rigPinnedKeys, rigSshTransport, uniqueTaskQueue } from '../support/rig';
import { startTcpProxy } from '../support/tcp-proxy';
import { startWorkerProcess, untilStatus } from '../support/worker-process';

const rig = loadRig();

describe('durability', { concurrency: false }, () => {
  it('the worker is killed mid-deploy; a new worker finishes it with 0 failed requests', async () => {
    resetStack('traefik');
    const input = await prepareRigDeploy('traefik', 'v2');
    const taskQueue = uniqueTaskQueue('crash');
    const { client, close } = await rigClient();
    const first = startWorkerProcess(taskQueue);
    let second: ChildProcess | undefined;
    const traffic = startLoad({ url: `${rig.stacks.traefik.url}/api/`, paths: ['/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
    await traffic.steady();
    try {
      const handle = await startDeploy(client, input, { taskQueue });
      await untilStatus(() => handle.query(statusQuery), (s) => s.services.server?.state === 'draining');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      second = startWorkerProcess(taskQueue);
      const result = await handle.result();
      const report = await traffic.stop();
      assert.equal(result.outcome, 'succeeded', result.lastError);
      assertNoDowntime(report, { resends: resendsAllowed('traefik') });
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

  it('the SSH connection drops mid-step; the step is retried over a new connection and its command runs once', async () => {
    resetStack('nginx');
    const input = await prepareRigDeploy('nginx', 'v2');
    // The worker's SSH goes through a TCP proxy on loopback, which counts the logins.
    const tcp = await startTcpProxy({ host: rig.ssh.host, port: rig.ssh.port });
    const docker = watchDockerEvents('shop-nginx');
    await docker.ready;
    try {
      await withDeployWorker(
        async ({ start }) => {
          const traffic = startLoad({ url: `${rig.stacks.nginx.url}/api/`, paths: ['/api/', '/api/', '/api/slow'], ratePerSecond: 50, durationMs: 180_000 });
          await traffic.steady();
          const old = serverContainerIds('shop-nginx');
          const handle = await start(input);
          // The old container's graceful stop is under way on the host: the step is in flight.
          while (!docker.signalsSent('15').has(old[0]!)) await sleep(20);
          const loginsBefore = tcp.connections;
          // Every session of the VPS's sshd (the children of its listener, whatever OpenSSH names them):
          // the worker's connection included. The fault matrix's own sshd is left alone.
          execFileSync('sh', ['-c', `pkill -P "$(cat ${rig.rigDir}/sshd/sshd.pid)" || true`]);
          const result = await handle.result();
          const report = await traffic.stop();
          await docker.stop();
          assert.equal(result.outcome, 'succeeded', result.lastError);
          assertNoDowntime(report, { resends: resendsAllowed('nginx') });
          assert.ok(tcp.connections > loginsBefore, `the worker logged in again after the drop (${loginsBefore} -> ${tcp.connections} logins)`);
          const stops = (await activityAttempts(handle)).filter((a) => a.type === 'retireOld').map((a) => a.attempt);
          assert.ok(stops.some((attempt) => attempt >= 2), `the stop step was retried: attempts ${stops.join(', ')}`);
          assert.equal(docker.signalsSent('15').get(old[0]!), 1, 'the retried stop did not stop the container again');
        },
        { transport: rigSshTransport({ port: tcp.port, pinnedKeys: rigPinnedKeys() }) },
      );
    } finally {
      await docker.stop();
      await tcp.close();
    }
    assert.equal((await fetch(`${rig.stacks.nginx.url}/api/`)).headers.get('x-app-version'), 'v2');
  });
});

function serverContainerIds(project: string): string[] {
  return execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.service=server'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}
