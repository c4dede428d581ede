import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusLines } from '../../src/cli/progress';
import type { DeployStatus } from '../../src/deploy/types';

test('a failed compensation shows every undo that failed, and the service states', () => {
  const status: DeployStatus = {
    deployId: 'd1',
    environment: 'prod',
    ref: 'v2',
    phase: 'done',
    outcome: 'failed_compensation',
    services: {
      server: { state: 'rolled-back', strategy: 'start-first', oldContainers: [], newContainers: [], warnings: [] },
      client: { state: 'rollback-failed', strategy: 'start-first', oldContainers: [], newContainers: ['abc'], warnings: [] },
    },
    timeline: [],
    lastError: 'bake failed; compensation failed: client (undo): no space left on device',
    onHost: 'checkout aaaa; server: s1 running; client: c2 running',
    undoFailures: [
      { service: '(source)', step: 'checkout', error: 'index.lock exists' },
      { service: 'client', step: 'undo', error: 'no space left on device' },
    ],
  };
  const lines = statusLines(status);
  assert.ok(lines.includes('  client: rollback-failed (start-first) — new abc'), lines.join('\n'));
  assert.ok(lines.includes('  undo failed: (source) (checkout): index.lock exists'), lines.join('\n'));
  assert.ok(lines.includes('  undo failed: client (undo): no space left on device'), lines.join('\n'));
});
