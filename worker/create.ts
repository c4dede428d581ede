/** Wiring: a Worker with Composure's workflows and activities over one transport. */
import type { Duration } from '@temporalio/common';
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
  /**
   * On SIGTERM, how long running activities may go on before they are let go
   * (default 1 minute). A host command let go keeps running on the host, and
   * the step's next attempt, on any worker, waits for it rather than starting
   * it again; so the grace only decides where the wait happens.
   */
  shutdownGraceTime?: Duration;
}

export const DEFAULT_SHUTDOWN_GRACE = '1 minute';

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
    shutdownGraceTime: options.shutdownGraceTime ?? DEFAULT_SHUTDOWN_GRACE,
    ...workflows,
  });
}
