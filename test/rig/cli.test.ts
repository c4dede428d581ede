/**
 * The CLI as CI uses it, against the rig: deploy --wait with its exit codes
 * and UI link, --json events, abort from another shell, rollback, history
 * and status from Temporal, and bad input refused with exit 2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deployWorkflowId, statusQuery } from '../../src/messages';
import { runCli } from '../support/cli';
import { resetStack, withDeployWorker } from '../support/deploy';
import { deployUser, loadRig } from '../support/rig';

const rig = loadRig();
const config = path.join(rig.rigDir, 'composure.yml');

async function version(): Promise<string | null> {
  return (await fetch(`${rig.stacks.traefik.url}/api/`)).headers.get('x-app-version');
}

describe('composure CLI on the rig', { concurrency: false }, () => {
  it('deploy --wait exits 0 with a UI link; status and history read the run back', async () => {
    resetStack('traefik');
    await withDeployWorker(async ({ taskQueue }) => {
      const env = { TEMPORAL_ADDRESS: rig.temporal.address, COMPOSURE_TASK_QUEUE: taskQueue };
      const deployed = await runCli(['-c', config, 'deploy', 'traefik', '--ref', 'v2', '--wait'], { env });
      assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
      const link = /Temporal UI: (http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/composure-deploy-traefik\/([0-9a-f-]+)\/history)/.exec(deployed.stdout);
      assert.ok(link, deployed.stdout);
      assert.match(deployed.stdout, /server: waiting-healthy/);
      assert.match(deployed.stdout, /Result: succeeded/);
      assert.equal(await version(), 'v2');
      const { deployId } = JSON.parse(deployUser(`tail -n 1 ${rig.stacks.traefik.dir}/.composure/releases.jsonl`)) as { deployId: string };

      const status = await runCli(['status', 'traefik', '--json'], { env });
      assert.equal(status.code, 0, status.stderr);
      const parsed = JSON.parse(status.stdout) as { runId: string; running: boolean; status: { outcome: string; ref: string } };
      assert.equal(parsed.runId, link[2]);
      assert.equal(parsed.status.outcome, 'succeeded');

      // Visibility is eventually consistent: give it a moment to index the close.
      let history: Array<{ runId: string; status?: string; ref?: string; services?: string[] }> = [];
      for (let i = 0; i < 20 && !history.some((h) => h.runId === link[2] && h.status === 'succeeded'); i++) {
        const listed = await runCli(['history', 'traefik', '--json', '--limit', '50'], { env });
        assert.equal(listed.code, 0, listed.stderr);
        history = JSON.parse(listed.stdout) as typeof history;
        await sleep(500);
      }
      const entry = history.find((h) => h.runId === link[2]);
      assert.deepEqual({ status: entry?.status, ref: entry?.ref, services: entry?.services }, { status: 'succeeded', ref: 'v2', services: ['server'] });

      const rolledBack = await runCli(['-c', config, 'rollback', 'traefik', '--to', 'v1', '--wait'], { env });
      assert.equal(rolledBack.code, 0, rolledBack.stdout + rolledBack.stderr);
      assert.match(rolledBack.stdout, /Rolling back to ref v1/);
      assert.equal(await version(), 'v1');

      // Without --to: the newest successful release whose commit differs from what runs, from the
      // host's ledger: the v2 deploy above.
      const back = await runCli(['-c', config, 'rollback', 'traefik', '--wait'], { env });
      assert.equal(back.code, 0, back.stdout + back.stderr);
      assert.match(back.stdout, new RegExp(`Rolling back to release ${deployId} \\(v2, [0-9a-f]{12}, `));
      assert.equal(await version(), 'v2');
    });
  });

  it('deploy --wait --json: events as JSON lines; a rolled-back deploy exits 3', async () => {
    resetStack('traefik');
    await withDeployWorker(async ({ taskQueue }) => {
      const env = { TEMPORAL_ADDRESS: rig.temporal.address, COMPOSURE_TASK_QUEUE: taskQueue };
      const result = await runCli(['-c', config, 'deploy', 'traefik', '--ref', 'never-healthy', '--wait', '--json'], { env });
      assert.equal(result.code, 3, result.stdout + result.stderr);
      const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; url?: string; result?: { outcome: string } });
      assert.equal(events[0]?.type, 'started');
      assert.match(events[0]?.url ?? '', /^http:\/\/127\.0\.0\.1:8233\//);
      assert.ok(events.some((e) => e.type === 'progress'));
      assert.equal(events.at(-1)?.type, 'result');
      assert.equal(events.at(-1)?.result?.outcome, 'rolled_back');
      assert.equal(await version(), 'v1');
    });
  });

  it('abort from another shell: the waiting deploy exits 4 and v1 keeps serving', async () => {
    resetStack('traefik');
    await withDeployWorker(async ({ client, taskQueue }) => {
      const env = { TEMPORAL_ADDRESS: rig.temporal.address, COMPOSURE_TASK_QUEUE: taskQueue };
      const waiting = runCli(['-c', config, 'deploy', 'traefik', '--ref', 'never-healthy', '--wait'], { env });
      // The latest run of the environment, once the CLI has started it and it waits for health.
      const handle = client.workflow.getHandle(deployWorkflowId('traefik'));
      const deadline = Date.now() + 90_000;
      for (;;) {
        const running = (await handle.describe().catch(() => undefined))?.status.name === 'RUNNING';
        const status = running ? await handle.query(statusQuery).catch(() => undefined) : undefined;
        if (status?.services.server?.state === 'waiting-healthy') break;
        assert.ok(Date.now() < deadline, 'the deploy never reached the health wait');
        await sleep(100);
      }
      const aborted = await runCli(['abort', 'traefik', '--reason', 'cli test'], { env });
      assert.equal(aborted.code, 0, aborted.stderr);
      const result = await waiting;
      assert.equal(result.code, 4, result.stdout + result.stderr);
      assert.match(result.stdout, /Result: aborted \(cli test\)/);
      const none = await runCli(['abort', 'traefik'], { env });
      assert.equal(none.code, 1, 'nothing left to abort');
      assert.equal(await version(), 'v1');
    });
  });

  it('Ctrl-C while waiting detaches (exit 130) and says how to abort; the deploy goes on', async () => {
    resetStack('traefik');
    await withDeployWorker(async ({ client, taskQueue }) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../src/cli/main.ts'), '-c', config, 'deploy', 'traefik', '--ref', 'v2', '--wait'], {
        env: { ...process.env, TEMPORAL_ADDRESS: rig.temporal.address, COMPOSURE_TASK_QUEUE: taskQueue },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!/phase: /.test(out)) {
        assert.ok(Date.now() < deadline, `the deploy never showed progress: ${out}`);
        await sleep(100);
      }
      child.kill('SIGINT');
      assert.equal(await exited, 130, out);
      assert.match(out, /Detached: the deploy goes on\..*abort it: composure abort traefik/s);
      const result = await client.workflow.getHandle(deployWorkflowId('traefik')).result();
      assert.equal((result as { outcome: string }).outcome, 'succeeded', 'detaching did not abort the deploy');
    });
    assert.equal(await version(), 'v2');
  });

  it('bad input exits 2 before anything starts', async () => {
    const env = { TEMPORAL_ADDRESS: rig.temporal.address, COMPOSURE_TASK_QUEUE: 'nobody-polls-this' };
    const hostile = await runCli(['-c', config, 'deploy', 'traefik', '--ref', '$(reboot)', '--wait'], { env });
    assert.equal(hostile.code, 2);
    assert.match(hostile.stderr, /invalid git ref/);
    const unknown = await runCli(['-c', config, 'deploy', 'production'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no environment "production"/);
    const badBake = await runCli(['-c', config, 'deploy', 'traefik', '--bake', 'soon'], { env });
    assert.equal(badBake.code, 2);
  });
});
