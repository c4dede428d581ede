/**
 * Starting a deploy: one workflow per environment (its id names the
 * environment), refused while another runs unless the caller attaches to it.
 * Runs carry search attributes and a memo, so the Temporal UI can filter them.
 */
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { DeployInput } from '../deploy/types';
import { DEFAULT_TASK_QUEUE, deployStartMetadata, deployWorkflowId } from '../messages';
import type { deployWorkflow } from '../../workflows/deploy/workflow';

export interface StartDeployOptions {
  taskQueue?: string;
  /** Join a deploy already running in this environment instead of refusing. */
  attach?: boolean;
}

// Kept here for existing importers; defined beside the other run metadata.
export { planSummary } from '../messages';

export async function startDeploy(client: Client, input: DeployInput, options: StartDeployOptions = {}): Promise<WorkflowHandleWithFirstExecutionRunId<typeof deployWorkflow>> {
  return client.workflow.start<typeof deployWorkflow>('deployWorkflow', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: deployWorkflowId(input.target.environment),
    workflowIdConflictPolicy: options.attach ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
    args: [input],
    // The same search attributes, memo and summary as a scheduled run's deploy.
    ...deployStartMetadata(input),
  });
}
