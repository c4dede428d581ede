/**
 * The production worker as an operator runs it: `node dist/worker/main.js`
 * with the prebuilt workflow bundle, the Temporal connection from the standard
 * TEMPORAL_* variables and the host from COMPOSURE_SSH_*. It serves a workflow,
 * and on SIGTERM it shuts down gracefully (exit 0).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { it } from 'node:test';
import { inspectHostWorkflow } from '../../workflows';
import { loadRig, rigClient, uniqueTaskQueue } from '../support/rig';

const root = path.resolve(__dirname, '../..');

it('the built worker serves workflows from its bundle over SSH and exits 0 on SIGTERM', async () => {
  const rig = loadRig();
  const main = path.join(root, 'dist/worker/main.js');
  assert.ok(existsSync(main), `${main} is missing: run npm run build`);
  assert.ok(existsSync(path.join(root, 'dist/workflow-bundle.js')), 'the production workflow bundle is built');
  const taskQueue = uniqueTaskQueue('worker-process');
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: rig.temporal.address,
      TEMPORAL_NAMESPACE: rig.temporal.namespace,
      COMPOSURE_TASK_QUEUE: taskQueue,
      COMPOSURE_SSH_HOST: rig.ssh.host,
      COMPOSURE_SSH_PORT: String(rig.ssh.port),
      COMPOSURE_SSH_USER: rig.ssh.username,
      COMPOSURE_SSH_KEY_FILE: rig.ssh.privateKeyPath,
      COMPOSURE_SSH_KNOWN_HOSTS: rig.ssh.knownHostsPath,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const { client, close } = await rigClient();
  try {
    const stack = rig.stacks.nginx;
    const result = await client.workflow.execute(inspectHostWorkflow, {
      taskQueue,
      workflowId: `worker-process-${taskQueue}`,
      args: [{ name: stack.project, dir: stack.dir }],
      workflowExecutionTimeout: '1 minute',
    });
    assert.equal(result.host.user, 'deploy');
    assert.equal(result.containers.length, 3);
    assert.match(output, /task queue worker-process-/, output);
    // The bundle was loaded, not rebuilt from source.
    assert.doesNotMatch(output, /webpack/i, output);
  } finally {
    await close();
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await exited;
  clearTimeout(timer);
  assert.equal(signal, null, `exited by signal ${signal}: ${output}`);
  assert.equal(code, 0, output);
});
