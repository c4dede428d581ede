/** What Temporal knows of a lock holder's run: whether it runs, and how it ended. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LockHolder } from '../deploy/types';
import type { HolderRun } from '../host/lock';
import { searchAttributes } from '../messages';

/** NOT_FOUND only when Temporal has no such run; any other error (Temporal unreachable) is thrown, so nothing is decided on it. */
export async function holderRun(client: Client, holder: Pick<LockHolder, 'workflowId' | 'runId'>): Promise<HolderRun> {
  try {
    const description = await client.workflow.getHandle(holder.workflowId, holder.runId).describe();
    return { status: description.status.name, outcome: description.typedSearchAttributes.get(searchAttributes.status) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND' };
    throw err;
  }
}
