/** Wiring: a Worker with Composure's workflows and activities over one transport. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { DEFAULT_TASK_QUEUE } from '../src/messages';
import type { Transport } from '../src/transport';
import type { TransportFor } from '../activities';

export interface ComposureWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** One transport, or a resolver per configured host. */
  transport: Transport | TransportFor;
  /** Production: the prebuilt bundle (dist/workflow-bundle.js). Tests: omitted, bundled from source. */
  workflowBundlePath?: string;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export function createWorker(options: ComposureWorkerOptions): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundlePath
    ? { workflowBundle: { codePath: options.workflowBundlePath } }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: createActivities(options.transport),
    // Heartbeats carry cancellation to activities: an abort must reach a health
    // wait within about a second, not after the default 30 s throttle.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
    ...workflows,
  });
}
