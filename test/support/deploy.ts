/** Deploys on the rig as the CLI will make them: config -> plan -> workflow, with a worker over SSH. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
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

/** Runs `fn` with a worker polling a fresh task queue; the worker stops when `fn` ends. `transport`: the worker's reach to the VPS (default: straight to its sshd). */
export async function withDeployWorker<T>(fn: (rig: DeployRig) => Promise<T>, options: { transport?: SshTransport } = {}): Promise<T> {
  const transport = options.transport ?? rigSshTransport();
  const connection = await rigWorkerConnection();
  const { client, close } = await rigClient();
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
