/**
 * inspectHostWorkflow: what runs on a host, as the host itself reports it.
 * The smallest end-to-end path through the stack (workflow -> activity ->
 * command -> transport), also used by operators to check a worker's reach.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, HostFacts, ProjectRef } from '../activities';
import type { ContainerState } from '../src/compose/ps';

const { hostFacts, composePs } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    maximumAttempts: 5,
    // A wrong host key will not fix itself; retrying it only hides the problem.
    nonRetryableErrorTypes: ['HostKeyVerificationError'],
  },
});

export interface InspectHostResult {
  host: HostFacts;
  containers: ContainerState[];
}

export async function inspectHostWorkflow(project: ProjectRef): Promise<InspectHostResult> {
  const host = await hostFacts();
  const containers = await composePs(project);
  return { host, containers };
}
