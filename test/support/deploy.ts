/** Deploys on the rig as the CLI will make them: config -> plan -> workflow, with a worker over SSH. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { parse, stringify } from 'yaml';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { singleTransport } from '../../activities';
import { prepareDeploy } from '../../src/client/prepare';
import { startDeploy } from '../../src/client/deploy';
import { loadConfig } from '../../src/config/load';
import type { DeployInput } from '../../src/deploy/types';
import type { deployWorkflow } from '../../workflows/deploy/workflow';
import { createWorker } from '../../worker/create';
import { transportForHost, type SshTransport } from '../../src/transport';
import { loadRig, rigClient, rigSshTransport, rigWorkerConnection, uniqueTaskQueue, type StackName } from './rig';

const ROOT = path.resolve(__dirname, '../..');

/** The stack back at v1, one container per service, no lock. */
export function resetStack(name: StackName): void {
  execFileSync('bash', [path.join(ROOT, 'scripts/rig.sh'), 'reset', name], { stdio: 'inherit' });
}

export async function prepareRigDeploy(name: StackName, ref: string, options: { bakeMs?: number; configFile?: string } = {}): Promise<DeployInput> {
  const rig = loadRig();
  const configFile = options.configFile ?? path.join(rig.rigDir, 'composure.yml');
  const env = loadConfig(configFile).environments[name]!;
  // The config's own host, as the CLI would reach it: a test with its own sshd never touches the shared one.
  const transport = transportForHost(env.host, { baseDir: path.dirname(configFile) });
  try {
    return await prepareDeploy(transport, env, { ref, bakeMs: options.bakeMs, requestedBy: 'rig-test' });
  } finally {
    await transport.close();
  }
}

export interface DeployRig {
  client: Client;
  taskQueue: string;
  start(input: DeployInput, options?: { attach?: boolean }): Promise<WorkflowHandleWithFirstExecutionRunId<typeof deployWorkflow>>;
}

/**
 * Runs `fn` with a worker polling a fresh task queue; the worker stops when `fn` ends.
 * `transport`: the worker's reach to the VPS (default: straight to its sshd);
 * `temporalAddress`: another Temporal server than the rig's main one.
 */
export async function withDeployWorker<T>(fn: (rig: DeployRig) => Promise<T>, options: { transport?: SshTransport; temporalAddress?: string } = {}): Promise<T> {
  const transport = options.transport ?? rigSshTransport();
  const base = loadRig();
  const rig = options.temporalAddress ? { ...base, temporal: { ...base.temporal, address: options.temporalAddress } } : base;
  const connection = await rigWorkerConnection(rig);
  const { client, close } = await rigClient(rig);
  const taskQueue = uniqueTaskQueue('deploy');
  const worker = await createWorker({ connection, taskQueue, transport: singleTransport(transport) });
  try {
    return await worker.runUntil(fn({ client, taskQueue, start: (input, options) => startDeploy(client, input, { taskQueue, ...options }) }));
  } finally {
    await close();
    await transport.close();
    await connection.close();
  }
}

/** Each scheduled step in order: its activity type, and when it was scheduled and completed (epoch ms; undefined if it never completed). */
export async function stepTimes(handle: WorkflowHandle): Promise<Array<{ type: string; scheduledAt: number; completedAt?: number }>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => {
      const done = events.find((c) => Number(c.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(e.eventId));
      return { type: e.activityTaskScheduledEventAttributes!.activityType?.name ?? '?', scheduledAt: ms(e.eventTime), completedAt: done ? ms(done.eventTime) : undefined };
    });
}

/**
 * When a rollback's switch to the restored containers completed (epoch ms): the first
 * `switchTraffic` after the first `startBeside` scheduled after AFTER (a crash, epoch ms).
 * From then on the rollback, not the crash, owns what fails.
 */
export async function rollbackSwitchedAt(handle: WorkflowHandle, after: number): Promise<number> {
  const steps = await stepTimes(handle);
  const restoredAt = steps.findIndex((s) => s.type === 'startBeside' && s.scheduledAt > after);
  const switched = restoredAt >= 0 ? steps.slice(restoredAt).find((s) => s.type === 'switchTraffic')?.completedAt : undefined;
  assert.ok(switched, `the rollback started the previous version and switched to it: ${steps.map((s) => s.type).join(', ')}`);
  return switched;
}

/**
 * Each step's activity type, attempt and worker identity, from the run's history (which keeps one
 * started event per step: the attempt that finished it).
 */
export async function activityAttempts(handle: WorkflowHandle): Promise<Array<{ type: string; attempt: number; identity: string }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => {
      const scheduled = (history.events ?? []).find((s) => Number(s.eventId) === Number(e.activityTaskStartedEventAttributes!.scheduledEventId));
      return {
        type: scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
        attempt: e.activityTaskStartedEventAttributes!.attempt ?? 1,
        identity: e.activityTaskStartedEventAttributes!.identity ?? '',
      };
    });
}

/**
 * A composure.yml like the rig's, whose SSH goes to PORT on loopback (an sshd or a proxy in front
 * of one), with the rig's host key pinned for it, and ENV_EXTRA set on every environment.
 */
export function rigConfigVia(port: number, envExtra: Record<string, unknown> = {}): string {
  const rig = loadRig();
  const config = parse(readFileSync(path.join(rig.rigDir, 'composure.yml'), 'utf8')) as { host: { ssh: Record<string, unknown> }; environments: Record<string, Record<string, unknown>> };
  for (const env of Object.values(config.environments)) Object.assign(env, envExtra);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'composure-rig-config-'));
  const key = readFileSync(rig.ssh.hostKeyPath, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${key}\n`);
  config.host.ssh.port = port;
  config.host.ssh.known_hosts = path.join(dir, 'known_hosts');
  writeFileSync(path.join(dir, 'composure.yml'), stringify(config));
  return path.join(dir, 'composure.yml');
}

/**
 * With COMPOSURE_RECORD_HISTORIES=1, keeps the run's history as test/fixtures/histories/NAME.json
 * for the replay test (test/unit/replay.test.ts): record one for each branch a workflow change
 * touches, so replay proves the change is behind a patch.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.COMPOSURE_RECORD_HISTORIES) return;
  const file = path.resolve(__dirname, '../fixtures/histories', `${name}.json`);
  writeFileSync(file, historyToJSON(await handle.fetchHistory()) + '\n');
}
