/**
 * One service's rollout and its undoing. Each step records how far it got
 * (`Applied.stage`) before it acts, so compensation undoes exactly what was
 * done, even when a step failed half-way.
 */
import { patched, sleep } from '@temporalio/workflow';
import type { DeployTarget, ServiceProgress } from '../../src/deploy/types';
import type { ServicePlan } from '../../src/plan/types';
import { steps, stepsFor, undo, undoFor } from './activities';
import { rolloutInBatches } from './batches';
import { drain, retireOld } from './retire';
import { gateOf, short, type Applied } from './applied';

export type { Applied } from './applied';

export async function rolloutService(target: DeployTarget, plan: ServicePlan, oldIds: string[], progress: ServiceProgress, applied: Applied[]): Promise<void> {
  const service = plan.service;
  const rec: Applied = { plan, oldIds, newIds: [], stage: 'starting' };
  applied.push(rec);
  progress.oldContainers = short(oldIds);

  // update_config.parallelism below the replica count: Swarm's batches, start-first.
  // (Behind a patch: runs started before batching existed replay as one batch.)
  if (plan.strategy !== 'stop-first' && plan.parallelism < plan.replicas && oldIds.length > 0 && patched('update-config-batches')) {
    return rolloutInBatches(target, plan, rec, progress);
  }

  if (plan.strategy === 'stop-first') {
    rec.stage = 'old-stopped';
    progress.state = 'stopping-old';
    rec.newIds = await steps.recreate.executeWithOptions({ summary: `${service}: stop-first recreate (downtime accepted)` }, [target, service, oldIds]);
  } else {
    progress.state = 'starting-new';
    rec.newIds = await steps.startBeside.executeWithOptions(
      { summary: `${service}: start ${plan.replicas} new beside ${oldIds.length} old` },
      [target, service, oldIds, plan.replicas],
    );
    rec.stage = 'started';
  }
  progress.newContainers = short(rec.newIds);

  progress.state = 'waiting-healthy';
  const facts = await stepsFor(plan.health.timeoutMs).waitHealthy.executeWithOptions(
    { summary: `${service}: wait until ${short(rec.newIds).join(', ')} ${gateOf(plan) === 'docker' ? 'healthy' : 'running'}` },
    [target, rec.newIds, gateOf(plan), plan.health.timeoutMs],
  );
  progress.health = facts.map((f) => f.health || f.state).join(', ');

  progress.state = 'switching';
  if (rec.stage === 'started') rec.stage = 'switching';
  const switched = await steps.switchTraffic.executeWithOptions({ summary: `${service}: move traffic to the new containers` }, [target, service, rec.newIds]);
  if (switched.note) progress.warnings.push(switched.note);
  if (rec.stage === 'switching') rec.stage = 'switched';
  if (plan.strategy === 'stop-first') return;

  progress.state = 'draining';
  await drain(target, plan, service, rec.newIds);
  progress.state = 'stopping-old';
  rec.stage = 'old-stopped';
  await retireOld(target, plan, `${service}: stop ${short(oldIds).join(', ')} (grace ${plan.stopGraceMs / 1000}s) and drop them from the proxy`, oldIds, rec.newIds);
}

/** Undoes one service: the old version keeps (or regains) the traffic, start-first where it can. */
export async function undoService(target: DeployTarget, rec: Applied, progress: ServiceProgress): Promise<void> {
  const { plan } = rec;
  const service = plan.service;
  progress.state = 'rolling-back';
  if (rec.stage !== 'old-stopped') {
    // The old containers still serve: stop whatever new ones exist, gracefully (a healthy
    // one may already take traffic: Traefik routes by health), and let the proxy forget them.
    const current = await undo.listContainers(target, service);
    const extra = current.filter((id) => !rec.oldIds.includes(id));
    if (rec.stage === 'started') {
      await undoFor(plan.stopGraceMs).stopAndRemove.executeWithOptions({ summary: `${service}: stop the new ${short(extra).join(', ')}` }, [target, extra, plan.stopGraceMs]);
      // Before any switch the proxy's view is the one the old containers had: an nginx reload
      // here would only risk resetting idle client connections. (Runs recorded before this
      // change re-switched; the patch keeps replaying them as they ran.)
      if (!patched('undo-skips-untouched-proxy')) await undo.switchTraffic(target, service, rec.oldIds);
    } else {
      await retireOld(target, plan, `${service}: stop the new ${short(extra).join(', ')} and give the proxy back to the old`, extra, rec.oldIds, 'undo');
    }
  } else if (plan.strategy === 'stop-first') {
    const current = await undo.listContainers(target, service);
    const restored = await undo.recreate.executeWithOptions({ summary: `${service}: recreate with the previous image` }, [target, service, current]);
    await undoFor(plan.health.timeoutMs).waitHealthy(target, restored, gateOf(plan), plan.health.timeoutMs);
    await undo.switchTraffic(target, service, restored);
  } else {
    // The old containers are gone: bring the previous image back beside the new, start-first.
    let current = await undo.listContainers(target, service);
    // After batches, the old containers not yet stopped still serve and stay; every other one is new,
    // including any a failed scale-up made before it could report them.
    const keep = rec.oldStopped ? rec.oldIds.filter((id) => !rec.oldStopped!.includes(id)) : [];
    const isNew = (id: string) => (rec.oldStopped ? !keep.includes(id) : rec.newIds.includes(id));
    // A new container that crashes from here on stays down: Docker would otherwise bring it back
    // into the proxy's rotation, beside the restored ones, to crash again with requests in flight
    // (and the restore below starts only the containers it creates, for Compose would too).
    // (Runs recorded before this step replay without it: patch `undo-holds-restarts`.)
    const holdRestarts = patched('undo-holds-restarts');
    if (holdRestarts) {
      const replaced = current.filter(isNew);
      await undo.holdRestarts.executeWithOptions({ summary: `${service}: no more restarts for ${short(replaced).join(', ')}` }, [target, replaced]);
    }
    if (rec.oldStopped) {
      // The unfinished batch never passed its gate: it goes first, so the restored containers
      // never run beside it and the extra containers stay within the batch size.
      const unfinished = current.filter((id) => isNew(id) && !(rec.servingIds ?? []).includes(id));
      if (unfinished.length > 0) {
        await undoFor(plan.stopGraceMs).stopAndRemove.executeWithOptions({ summary: `${service}: stop the unfinished batch ${short(unfinished).join(', ')}` }, [
          target,
          unfinished,
          plan.stopGraceMs,
        ]);
        current = current.filter((id) => !unfinished.includes(id));
      }
    }
    // A batched rollout stopped only some old containers: exactly those come back.
    const count = rec.oldStopped?.length ?? plan.replicas;
    const restored = await undo.startBeside.executeWithOptions(
      { summary: `${service}: start ${count} previous beside ${current.length} current` },
      holdRestarts ? [target, service, current, count, true] : [target, service, current, count],
    );
    await undoFor(plan.health.timeoutMs).waitHealthy(target, restored, gateOf(plan), plan.health.timeoutMs);
    await undo.switchTraffic(target, service, restored);
    await sleep(plan.drainMs);
    const leaving = current.filter(isNew);
    await retireOld(target, plan, `${service}: stop the new ${short(leaving).join(', ')} and drop them from the proxy`, leaving, restored, 'undo');
  }
  progress.state = 'rolled-back';
}
