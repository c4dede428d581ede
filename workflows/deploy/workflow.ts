/**
 * deployWorkflow: a zero-downtime deploy of one environment, durable across
 * worker crashes. Lock, snapshot, sync the source, build while the old
 * containers serve, re-plan by image, hooks, then per service start-first
 * (new beside old, healthy, switch, drain, stop old), a bake window, and the
 * ledger. Any failure, an `abort` signal or a Temporal cancel undoes what was
 * done, in a non-cancellable scope: the previous version keeps or regains the
 * traffic.
 */
import {
  CancellationScope,
  CancelledFailure,
  isCancellation,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeployInput, DeployOutcome, DeployPhase, DeployResult, DeployStatus, Snapshot, UndoFailure } from '../../src/deploy/types';
import { abortSignal, searchAttributes, statusQuery } from '../../src/messages';
import type { ServicePlan } from '../../src/plan/types';
import { builds, steps, stepsFor, undo } from './activities';
import { rolloutService, undoService, type Applied } from './rollout';

function errorText(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; cause?: { message?: string } } };
  // An ActivityFailure's own message is generic; the cause says what happened on the host.
  return [e.message, e.cause?.message, e.cause?.cause?.message].filter(Boolean).join(': ');
}

export async function deployWorkflow(input: DeployInput): Promise<DeployResult> {
  const { target, plan, deployId, ref } = input;
  const status: DeployStatus = {
    deployId,
    environment: target.environment,
    ref,
    phase: 'starting',
    services: Object.fromEntries(
      plan.services.map((s) => [
        s.service,
        { state: s.action === 'deploy' ? 'pending' : s.action === 'keep' ? 'kept' : 'skipped', strategy: s.strategy, oldContainers: [], newContainers: [], reason: s.reasons[0], warnings: [...s.warnings] },
      ]),
    ),
    timeline: [],
  };
  const phase = (p: DeployPhase) => {
    status.phase = p;
    status.timeline.push({ phase: p, at: new Date().toISOString() });
  };
  setHandler(statusQuery, () => status);

  const root = CancellationScope.current();
  const rollout = new CancellationScope();
  let aborted = false;
  setHandler(abortSignal, ({ reason }) => {
    aborted = true;
    status.abortReason = reason;
    rollout.cancel();
  });

  const applied: Applied[] = [];
  let snapshot: Snapshot | undefined;
  let checkedOutFrom: string | undefined;
  // Image source: the tag `.env` held before (null: unset), once this deploy changed it.
  let taggedFrom: { tag: string | null } | undefined;
  let built: string[] = [];
  let locked = false;
  let newImages: Record<string, string | undefined> = {};
  const newServing: Array<{ plan: ServicePlan; ids: string[] }> = [];

  const run = async () => {
    phase('locking');
    const info = workflowInfo();
    await steps.acquireLock(target, { deployId, workflowId: info.workflowId, runId: info.runId, ref, startedAt: new Date().toISOString() });
    locked = true;

    phase('snapshotting');
    snapshot = await steps.snapshot(target, deployId);

    if (target.source.kind === 'git') {
      phase('syncing-source');
      // The commit the plan was made for, not whatever the branch points to by now.
      const source = await steps.resolveSource(target, plan.ref?.commit ?? ref);
      status.commit = source.commit;
      if (source.head !== source.commit) {
        checkedOutFrom = source.head;
        await steps.checkout.executeWithOptions({ summary: `checkout ${source.commit.slice(0, 12)} (was ${source.head.slice(0, 12)})` }, [target, source.commit]);
      }
    }

    if (target.source.kind === 'image' && snapshot.imageTag !== ref) {
      phase('syncing-source');
      taggedFrom = { tag: snapshot.imageTag ?? null };
      await steps.setImageTag.executeWithOptions({ summary: `${target.source.variable}=${ref} in .env (was ${snapshot.imageTag ?? 'unset'})` }, [target, ref]);
    }

    const candidates = plan.services.filter((s) => s.action === 'deploy');
    phase('building');
    const { compose } = await steps.inspectTarget(target, []);
    const toBuild = candidates.filter((s) => compose.services[s.service]?.buildContext).map((s) => s.service);
    const toPull = candidates.filter((s) => !compose.services[s.service]?.buildContext).map((s) => s.service);
    built = toBuild;
    await builds.build.executeWithOptions({ summary: `build ${toBuild.join(', ') || 'nothing'}` }, [target, toBuild, 'build']);
    if (target.source.kind === 'image') await builds.build.executeWithOptions({ summary: `pull ${toPull.join(', ')}` }, [target, toPull, 'pull']);

    // Files predicted a change; images decide it.
    phase('planning');
    const { images } = await steps.inspectTarget(target, candidates.map((s) => s.service));
    newImages = images;
    const deploying = candidates.filter((s) => {
      const running = snapshot!.running[s.service];
      const same = running && running.containers > 0 && images[s.service] !== undefined && running.imageId === images[s.service];
      if (same) {
        status.services[s.service]!.state = 'skipped';
        status.services[s.service]!.reason = `image unchanged (${images[s.service]!.replace('sha256:', '').slice(0, 12)})`;
      }
      return !same;
    });
    upsertSearchAttributes([{ key: searchAttributes.services, value: deploying.map((s) => s.service) }]);

    if (target.hooks.preDeploy.length && deploying.length) {
      phase('pre-deploy-hooks');
      for (const hook of target.hooks.preDeploy) await stepsFor(hook.timeoutMs).runHook.executeWithOptions({ summary: `pre-deploy: ${hook.command.join(' ')}` }, [target, hook]);
    }

    if (deploying.length) phase('rolling-out');
    for (const servicePlan of deploying) {
      const progress = status.services[servicePlan.service]!;
      progress.startedAt = new Date().toISOString();
      await rolloutService(target, servicePlan, snapshot.services[servicePlan.service]?.containerIds ?? [], progress, applied);
      progress.state = 'done';
      progress.finishedAt = new Date().toISOString();
      newServing.push({ plan: servicePlan, ids: applied.at(-1)!.newIds });
    }

    const bakeMs = Math.max(input.bakeMs, ...deploying.map((s) => s.monitorMs));
    if (bakeMs > 0 && newServing.length) {
      phase('baking');
      await Promise.all(
        newServing.map(({ plan: p, ids }) =>
          stepsFor(bakeMs).watchHealthy.executeWithOptions({ summary: `${p.service}: stay healthy for ${Math.round(bakeMs / 1000)}s` }, [
            target,
            ids,
            p.health.kind === 'running' ? 'running' : 'docker',
            bakeMs,
          ]),
        ),
      );
    }

    if (target.hooks.postDeploy.length && deploying.length) {
      phase('post-deploy-hooks');
      for (const hook of target.hooks.postDeploy) await stepsFor(hook.timeoutMs).runHook.executeWithOptions({ summary: `post-deploy: ${hook.command.join(' ')}` }, [target, hook]);
    }
  };

  // Compensation finishes what it can: a failing undo step does not stop the others, and each
  // failure is returned. (Runs recorded before this stopped at the first failure: unpatched,
  // the first failure is thrown, as it was.)
  const compensate = async (): Promise<UndoFailure[]> => {
    phase('compensating');
    const finishWhatItCan = patched('compensation-finishes-what-it-can');
    const failures: UndoFailure[] = [];
    const attempt = async (service: string, step: UndoFailure['step'], work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (err) {
        if (!finishWhatItCan) throw err;
        failures.push({ service, step, error: errorText(err) });
        if (status.services[service]) status.services[service].state = 'rollback-failed';
      }
    };
    // The old source first, so Compose's definitions match the release being restored.
    const head = checkedOutFrom;
    if (head) await attempt('(source)', 'checkout', () => undo.checkout(target, head));
    const tagged = taggedFrom;
    if (tagged) await attempt('(source)', 'image-tag', () => undo.setImageTag(target, tagged.tag));
    // Image names back to the images that served, so no rebuild is needed.
    for (const service of built) {
      const snap = snapshot?.services[service];
      const imageId = snap?.imageId;
      if (snap && imageId) await attempt(service, 'retag', () => undo.retagImage(target, imageId, snap.imageRef));
    }
    for (const rec of [...applied].reverse()) await attempt(rec.plan.service, 'undo', () => undoService(target, rec, status.services[rec.plan.service]!));
    return failures;
  };

  let outcome: DeployOutcome = 'succeeded';
  let cancelledByTemporal = false;
  try {
    await rollout.run(run);
  } catch (err) {
    status.lastError = errorText(err);
    // A step may fail on its own just as an abort arrives; the abort decides the outcome.
    cancelledByTemporal = !aborted && (isCancellation(err) || root.consideredCancelled);
    if (aborted || cancelledByTemporal) {
      outcome = 'aborted';
      status.abortReason ??= 'cancelled from Temporal';
    } else {
      outcome = 'rolled_back';
    }
    await CancellationScope.nonCancellable(async () => {
      let failed: string | undefined;
      try {
        const failures = await compensate();
        if (failures.length) {
          status.undoFailures = failures;
          failed = failures.map((f) => `${f.service} (${f.step}): ${f.error}`).join('; ');
        }
      } catch (compensationError) {
        failed = errorText(compensationError);
      }
      if (failed !== undefined) {
        outcome = 'failed_compensation';
        status.lastError = `${status.lastError}; compensation failed: ${failed}`;
        status.onHost = await steps.describeHost(target).catch((e: unknown) => `unknown (${errorText(e)})`);
      }
    });
  } finally {
    await CancellationScope.nonCancellable(async () => {
      phase('recording');
      status.outcome = outcome;
      const images = Object.fromEntries(newServing.map(({ plan: p }) => [p.service, newImages[p.service]]));
      await steps
        .recordRelease(target, {
          deployId,
          ref,
          commit: status.commit,
          result: outcome,
          requestedBy: input.requestedBy,
          services: newServing.map(({ plan: p, ids }) => ({ service: p.service, containers: ids.map((id) => id.slice(0, 12)) })),
          images,
          at: new Date().toISOString(),
          workflowId: workflowInfo().workflowId,
          runId: workflowInfo().runId,
        })
        .catch((e: unknown) => {
          // The ledger is a record, not a step: its failure must not mask the outcome.
          status.lastError = `${status.lastError ?? ''} (ledger not written: ${errorText(e)})`.trim();
        });
      if (locked) {
        // A host compensation could not restore stays locked, and its lock says why, until a
        // person has looked (`composure lock release`). Unpatched runs released it, as they did.
        if (outcome === 'failed_compensation' && patched('failed-compensation-keeps-lock')) {
          const reason = [status.lastError, status.onHost && `on the host: ${status.onHost}`].filter(Boolean).join('; ');
          const mark = await undo.markLockFailed(target, deployId, reason).catch((e: unknown) => ({ marked: false, note: `it could not be marked (${errorText(e)})` }));
          // Unmarked, the run's failed_compensation status still keeps the lock from being taken over.
          if (!mark.marked) status.lastError = `${status.lastError ?? ''} (lock kept, but ${mark.note})`.trim();
        } else {
          await undo.releaseLock(target, deployId);
        }
      }
      upsertSearchAttributes([{ key: searchAttributes.status, value: outcome }]);
      phase('done');
    });
  }
  // A cancel from Temporal (e.g. the UI) ends the run as cancelled, after compensation.
  if (cancelledByTemporal) throw new CancelledFailure(`deploy ${deployId} cancelled from Temporal; compensation: ${outcome}`);
  return { ...status, outcome };
}
