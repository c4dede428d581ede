/**
 * Determinism guard: histories recorded from real deploys on the rig (a
 * success, rollbacks, an abort, a cancel, hooks, stop-first, batches, a
 * schedule's runs: skipped, deployed as a child, no-op), two recorded with the
 * workflow code of b8a1b9b^ (three replicas in one batch, before patch
 * `update-config-batches`: a success and a crash in the bake window), and from the deploy workflow against fake
 * activities on the time-skipping server (a compensation whose undo fails,
 * from before and after the patches that changed it: test/support/fake-deploy.ts),
 * replay against today's workflow code. A
 * change that would break running deploys on upgrade fails here. They also
 * show that no secret reaches history: only the key's path, never the key.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const dir = path.resolve(__dirname, '../fixtures/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

it('recorded deploy histories replay without nondeterminism', async () => {
  assert.ok(files.length >= 3, 'a success, a rollback and an abort are recorded');
  const histories = files.map((file) => ({ workflowId: file, history: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows'), replayName: 'composure-replay' }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

it('no private key is in any recorded history', () => {
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    // Payloads are base64 JSON; decode them all and look for key material.
    const decoded = [...text.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
    assert.ok(decoded.includes('deployWorkflow') || decoded.includes('deployId'), `${file}: payloads were decoded`);
    for (const haystack of [text, decoded]) {
      assert.doesNotMatch(haystack, /PRIVATE KEY|b3BlbnNzaC1rZXktdjE/, `${file} carries key material`);
    }
  }
});
