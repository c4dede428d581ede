/**
 * scheduledDeployWorkflow: what a Temporal Schedule starts (src/client/schedule.ts).
 * Each firing plans the deploy on the worker, from the host as it is now,
 * then runs it as a child `deployWorkflow` under the environment's usual
 * workflow id, so a scheduled deploy is exactly a normal deploy: the same
 * lock, search attributes, memo, status query, abort signal and compensation.
 *
 * - A deploy of the environment already running (started by hand, by CI or by
 *   another schedule) is not an error: the run returns `skipped`.
 * - A plan with nothing to deploy returns `noop` without starting a deploy:
 *   a deploy would still lock, snapshot (tagging rollback images, which
 *   pushes older rollback points out of retention) and write a ledger line,
 *   every time the schedule fires.
 * - A deploy that rolls back is a result, not a failure, as for deployWorkflow:
 *   the outcome and the reason are in the result.
 * - Planning failures fail the run (a refused plan, a missing ref, a host out
 *   of reach after retries), so they show as failed runs of the schedule; the
 *   next firing tries again.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, ParentClosePolicy, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EnvironmentConfig } from '../src/config/types';
import type { DeployOutcome } from '../src/deploy/types';
import { NON_RETRYABLE_DEPLOY_ERRORS } from '../src/deploy/errors';
import { deployStartMetadata, deployWorkflowId } from '../src/messages';
import { deployWorkflow } from './deploy/workflow';

// Planning reads the host over SSH (compose config, ps, git fetch): seconds.
// Retried for transient faults only; the schedule's next firing is the real retry.
const { prepareScheduledDeploy } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: [...NON_RETRYABLE_DEPLOY_ERRORS, 'PlanError', 'HostStateError'],
  },
});

export interface ScheduledDeployArgs {
  /** The environment as resolved when the schedule was created (no secrets: the key is a reference). */
  env: EnvironmentConfig;
  /** Omitted: the configured branch's head at fire time. */
  ref?: string;
  bakeMs: number;
  scheduleId: string;
}

export type ScheduledDeployOutcome = DeployOutcome | 'skipped' | 'noop';

export interface ScheduledDeployResult {
  outcome: ScheduledDeployOutcome;
  /** The deploy's id (the child's, or the one that would have run when skipped); absent for a no-op. */
  deployId?: string;
  /** The ref as planned (the branch name when the schedule names none). */
  ref?: string;
  /** The exact commit planned, for a git source. */
  commit?: string;
  /** Why it was skipped, a no-op, rolled back or aborted. */
  reason?: string;
}

export async function scheduledDeployWorkflow(args: ScheduledDeployArgs): Promise<ScheduledDeployResult> {
  const { env, scheduleId } = args;
  const input = await prepareScheduledDeploy(env, { ref: args.ref, bakeMs: args.bakeMs, requestedBy: `schedule ${scheduleId}` });
  const planned = { ref: input.ref, commit: input.plan.ref?.commit };
  if (input.plan.noop) {
    return { outcome: 'noop', ...planned, reason: 'nothing to deploy: every service is unchanged' };
  }

  const workflowId = deployWorkflowId(env.name);
  let result;
  try {
    result = await executeChild(deployWorkflow, {
      workflowId,
      args: [input],
      // Closing this run (terminate, timeout) cancels the deploy, which then
      // undoes what it did; it is never cut off between two steps.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      ...deployStartMetadata(input, { scheduleId }),
    });
  } catch (err) {
    // The child start is refused while a run with this id is open: one deploy per environment.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { outcome: 'skipped', deployId: input.deployId, ...planned, reason: `a deploy of ${env.name} is already running (${workflowId})` };
    }
    throw err;
  }
  return {
    outcome: result.outcome,
    deployId: input.deployId,
    ref: input.ref,
    commit: result.commit ?? planned.commit,
    reason: result.outcome === 'succeeded' ? undefined : (result.abortReason ?? result.lastError),
  };
}
