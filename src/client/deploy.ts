/**
 * Starting a deploy: one workflow per environment (its id names the
 * environment), refused while another runs unless the caller attaches to it.
 * Runs carry search attributes and a memo, so the Temporal UI can filter them.
 */
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { DeployInput } from '../deploy/types';
import { DEFAULT_TASK_QUEUE, deployWorkflowId, searchAttributes } from '../messages';
import type { deployWorkflow } from '../../workflows/deploy/workflow';

export interface StartDeployOptions {
  taskQueue?: string;
  /** Join a deploy already running in this environment instead of refusing. */
  attach?: boolean;
}

export function planSummary(input: DeployInput): string {
  return input.plan.services
    .map((s) => `${s.service}: ${s.action}${s.strategy ? ` ${s.strategy}` : ''}`)
    .join('; ');
}

export async function startDeploy(client: Client, input: DeployInput, options: StartDeployOptions = {}): Promise<WorkflowHandleWithFirstExecutionRunId<typeof deployWorkflow>> {
  return client.workflow.start<typeof deployWorkflow>('deployWorkflow', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: deployWorkflowId(input.target.environment),
    workflowIdConflictPolicy: options.attach ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
    args: [input],
    typedSearchAttributes: [
      { key: searchAttributes.environment, value: input.target.environment },
      { key: searchAttributes.ref, value: input.ref },
      { key: searchAttributes.status, value: 'running' },
      { key: searchAttributes.services, value: input.plan.services.filter((s) => s.action === 'deploy').map((s) => s.service) },
    ],
    memo: { plan: planSummary(input), deployId: input.deployId, requestedBy: input.requestedBy },
    staticSummary: `deploy ${input.target.environment} to ${input.ref.slice(0, 12)}`,
  });
}
