/**
 * Planning as an activity, for scheduled redeploys: the same prepareDeploy
 * the CLI runs (config -> plan read from the host -> deploy input without
 * secrets), but on the worker, at the moment the schedule fires. So the plan
 * is made against what runs then, and a schedule without a ref deploys the
 * branch head as it is at fire time.
 */
import { prepareDeploy } from '../src/client/prepare';
import type { EnvironmentConfig } from '../src/config/types';
import type { DeployInput } from '../src/deploy/types';
import type { TransportFor } from './host';

export interface PrepareScheduledDeployOptions {
  /** Branch, tag, SHA or image tag; undefined plans the configured branch's head at fire time. */
  ref?: string;
  bakeMs: number;
  /** Recorded in the ledger, e.g. "schedule composure-prod-nightly". */
  requestedBy: string;
}

export function createPrepareActivities(transportFor: TransportFor) {
  return {
    /** Plans a deploy of `env` from its host; throws PlanError when the plan refuses a service. */
    async prepareScheduledDeploy(env: EnvironmentConfig, options: PrepareScheduledDeployOptions): Promise<DeployInput> {
      // The worker owns the transport (its pool keeps one connection per host): not closed here.
      return prepareDeploy(transportFor(env.host), env, { ref: options.ref, bakeMs: options.bakeMs, requestedBy: options.requestedBy });
    },
  };
}
