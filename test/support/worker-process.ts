/** The production worker (dist/worker/main.js) as a child process: what a test kills, stops or restarts; and waiting for a run's status. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployStatus } from '../../src/deploy/types';
import { loadRig } from './rig';

const main = path.resolve(__dirname, '../../dist/worker/main.js');

export function startWorkerProcess(taskQueue: string, env: Record<string, string> = {}): ChildProcess {
  assert.ok(existsSync(main), `${main} is missing: run npm run build`);
  const rig = loadRig();
  return spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: rig.temporal.address, TEMPORAL_NAMESPACE: rig.temporal.namespace, COMPOSURE_TASK_QUEUE: taskQueue, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

/** Polls READ until PREDICATE holds; fails if the run ends first or LIMIT_MS passes. */
export async function untilStatus(read: () => Promise<DeployStatus>, predicate: (s: DeployStatus) => boolean, limitMs = 120_000): Promise<DeployStatus> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = await read();
    if (predicate(status)) return status;
    if (status.phase === 'done' || Date.now() > deadline) assert.fail(`status never matched: ${JSON.stringify(status)}`);
    await sleep(100);
  }
}
