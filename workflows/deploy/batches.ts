/**
 * A start-first rollout in batches (deploy.update_config.parallelism below
 * the replica count, with update_config.delay between batches), as Swarm's
 * `order: start-first` does it: per batch, start that many new containers
 * beside the rest, wait until they are healthy, move traffic, drain, then stop
 * as many old ones. At most `parallelism` extra containers run at any time,
 * and every gate checks the earlier batches again.
 */
import { sleep } from '@temporalio/workflow';
import type { DeployTarget, ServiceProgress } from '../../src/deploy/types';
import type { ServicePlan } from '../../src/plan/types';
import { steps, stepsFor } from './activities';
import { drain, retireOld } from './retire';
import { gateOf, short, type Applied } from './applied';

export async function rolloutInBatches(target: DeployTarget, plan: ServicePlan, rec: Applied, progress: ServiceProgress): Promise<void> {
  const service = plan.service;
  const batches = Math.ceil(plan.replicas / plan.parallelism);
  let remainingOld = [...rec.oldIds];
  rec.oldStopped = [];
  rec.servingIds = [];
  for (let batch = 1; batch <= batches; batch++) {
    progress.batch = `${batch}/${batches}`;
    const label = `${service} batch ${batch}/${batches}`;
    const wanted = Math.min(plan.replicas, batch * plan.parallelism);
    const earlier = rec.newIds;

    progress.state = 'starting-new';
    // Cumulative: startBeside counts every container not among the old, so a retry adds nothing.
    rec.newIds = await steps.startBeside.executeWithOptions({ summary: `${label}: ${wanted - earlier.length} new beside ${remainingOld.length} old` }, [
      target,
      service,
      rec.oldIds,
      wanted,
    ]);
    if (rec.stage === 'starting') rec.stage = 'started';
    progress.newContainers = short(rec.newIds);
    const fresh = rec.newIds.filter((id) => !earlier.includes(id));

    progress.state = 'waiting-healthy';
    // Earlier batches are checked again: one that crashed meanwhile fails this gate (a restart counts).
    const facts = await stepsFor(plan.health.timeoutMs).waitHealthy.executeWithOptions({ summary: `${label}: wait until ${short(fresh).join(', ')} healthy (and ${earlier.length} earlier still fit)` }, [
      target,
      rec.newIds,
      gateOf(plan),
      plan.health.timeoutMs,
    ]);
    progress.health = facts.map((f) => f.health || f.state).join(', ');

    progress.state = 'switching';
    if (rec.stage === 'started') rec.stage = 'switching';
    const switched = await steps.switchTraffic.executeWithOptions({ summary: `${label}: move traffic to the new containers` }, [target, service, rec.newIds]);
    if (switched.note && !progress.warnings.includes(switched.note)) progress.warnings.push(switched.note);
    if (rec.stage === 'switching') rec.stage = 'switched';
    rec.servingIds = [...rec.newIds];

    progress.state = 'draining';
    await drain(target, plan, label, rec.newIds);
    // The last batch takes every old container that is left (the replica count may have changed).
    const leaving = batch === batches ? remainingOld : remainingOld.slice(0, plan.parallelism);
    if (leaving.length > 0) {
      progress.state = 'stopping-old';
      rec.stage = 'old-stopped';
      rec.oldStopped.push(...leaving);
      await retireOld(target, plan, `${label}: stop ${short(leaving).join(', ')} (grace ${plan.stopGraceMs / 1000}s) and drop them from the proxy`, leaving, rec.newIds);
      remainingOld = remainingOld.filter((id) => !leaving.includes(id));
      progress.oldContainers = short(remainingOld);
    }
    if (batch < batches && plan.batchDelayMs > 0) {
      progress.state = 'batch-delay';
      await sleep(plan.batchDelayMs);
    }
  }
  progress.batch = undefined;
}
