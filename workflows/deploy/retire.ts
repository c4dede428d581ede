/** Draining and retiring the old containers once the new ones serve. */
import { patched, sleep } from '@temporalio/workflow';
import type { DeployTarget } from '../../src/deploy/types';
import type { ServicePlan } from '../../src/plan/types';
import { steps, stepsFor, undo, undoFor } from './activities';
import { gateOf, short } from './applied';

/**
 * Stops OLD gracefully and makes the proxy forget them while NEW serve, in one step (the nginx
 * reload rides on the stop's own command), in a rollout or in its undoing. Runs recorded before
 * that (patch `retire-old-in-one-step`) stopped, then switched, in two steps.
 */
export async function retireOld(target: DeployTarget, plan: ServicePlan, summary: string, oldIds: string[], newIds: string[], as: 'step' | 'undo' = 'step'): Promise<void> {
  // Compensation retries more patiently than a step (activities.ts).
  const [sized, unsized] = as === 'undo' ? [undoFor(plan.stopGraceMs), undo] : [stepsFor(plan.stopGraceMs), steps];
  if (patched('retire-old-in-one-step')) {
    await sized.retireOld.executeWithOptions({ summary }, [target, plan.service, oldIds, newIds, plan.stopGraceMs]);
    return;
  }
  await sized.stopAndRemove.executeWithOptions({ summary: `${plan.service}: stop ${short(oldIds).join(', ')} (grace ${plan.stopGraceMs / 1000}s)` }, [
    target,
    oldIds,
    plan.stopGraceMs,
  ]);
  // nginx still lists the old containers' addresses until it reloads.
  await unsized.switchTraffic.executeWithOptions({ summary: `${plan.service}: drop the old containers from the proxy` }, [target, plan.service, newIds]);
}

/**
 * The drain: the old containers serve on while the proxy lets go of them, and the new ones are
 * watched as in the bake window, so one that crashes or turns unhealthy meanwhile fails the
 * rollout before any old container is stopped. (Runs recorded before that slept through the
 * drain: patch `watch-new-while-draining`.)
 */
export async function drain(target: DeployTarget, plan: ServicePlan, label: string, newIds: string[]): Promise<void> {
  if (patched('watch-new-while-draining')) {
    if (plan.drainMs <= 0) return;
    await stepsFor(plan.drainMs).watchHealthy.executeWithOptions({ summary: `${label}: drain ${plan.drainMs / 1000}s, watching ${short(newIds).join(', ')}` }, [target, newIds, gateOf(plan), plan.drainMs]);
    return;
  }
  await sleep(plan.drainMs);
}
