/**
 * Containers of a service: found by Compose labels, started beside the old
 * ones, watched until healthy, stopped gracefully. Every activity here is
 * idempotent, so a retry after a dropped connection does no harm: a retried
 * scale-up never makes a third container, a retried stop accepts a container
 * that is already gone.
 */
import { composeProjectOf } from '../src/host/inspect';
import { composeScale, composeUpService } from '../src/commands/compose';
import { disableRestarts, inspectContainers, listServiceContainers, removeContainers, startContainers, stopContainers, tagImage } from '../src/commands/docker';
import type { DeployTarget } from '../src/deploy/types';
import { HealthCheckFailedError } from '../src/deploy/errors';
import { CommandFailedError } from '../src/transport/errors';
import { beat, hostOf, pause, type Host, type TransportFor } from './host';

export interface ContainerFacts {
  id: string;
  imageId: string;
  state: string;
  health: string;
  restartCount: number;
  exitCode: number;
  ips: string[];
}

interface Inspected {
  Id: string;
  Image: string;
  RestartCount?: number;
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string } };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export async function containersOf(host: Host, project: string, service: string): Promise<string[]> {
  const ps = await host.run(listServiceContainers(project, service), { timeoutMs: 60_000 });
  return ps.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { ID: string }).ID)
    .sort();
}

/**
 * Graceful stop, then removal, of whichever of IDS still exist (gone already is fine). STOP
 * builds the stop command from the present ids and the grace in seconds (default `docker stop`).
 * Returns the ids it stopped.
 */
export async function stopAndRemoveOn(
  host: Host,
  ids: string[],
  graceMs: number,
  stop: (present: string[], graceSeconds: number) => string[] = stopContainers,
): Promise<string[]> {
  const present = (await inspect(host, ids)).map((c) => c.id);
  if (present.length === 0) return present;
  const graceSeconds = Math.ceil(graceMs / 1000);
  await host.apply(stop(present, graceSeconds), { timeoutMs: (graceSeconds + 60) * 1000 });
  await host.apply(removeContainers(present), { timeoutMs: 60_000 });
  return present;
}

export async function inspect(host: Host, ids: string[]): Promise<ContainerFacts[]> {
  if (ids.length === 0) return [];
  // A container removed meanwhile makes inspect exit 1 but still print the others.
  const result = await host.exec(inspectContainers(ids), { timeoutMs: 60_000 });
  const parsed = JSON.parse(result.stdout || '[]') as Inspected[];
  return parsed.map((c) => ({
    id: c.Id,
    imageId: c.Image,
    state: c.State?.Status ?? 'unknown',
    health: c.State?.Health?.Status ?? '',
    restartCount: c.RestartCount ?? 0,
    exitCode: c.State?.ExitCode ?? 0,
    ips: Object.values(c.NetworkSettings?.Networks ?? {})
      .map((n) => n.IPAddress ?? '')
      .filter(Boolean),
  }));
}

function describe(c: ContainerFacts): string {
  return `${c.id.slice(0, 12)} ${c.state}${c.health ? ` (${c.health})` : ''}${c.restartCount ? `, restarted ${c.restartCount}x` : ''}`;
}

/** Why a container is no longer fit to serve, or undefined when it is. */
function failureOf(c: ContainerFacts, gate: 'docker' | 'running'): string | undefined {
  if (c.state === 'exited' || c.state === 'dead') return `exited with code ${c.exitCode}`;
  if (c.restartCount > 0 || c.state === 'restarting') return `crashed and was restarted (${c.restartCount}x)`;
  if (gate === 'docker' && c.health === 'unhealthy') return 'is unhealthy';
  return undefined;
}

export function createContainerActivities(transportFor: TransportFor) {
  return {
    /** The ids of the service's containers now. */
    async listContainers(target: DeployTarget, service: string): Promise<string[]> {
      return containersOf(hostOf(transportFor, target), target.projectName, service);
    },

    /**
     * Start-first: new containers beside `oldIds` (`--no-recreate` leaves them
     * untouched). Returns the new ids. A retry finds the containers it already
     * made and does not add more. With ONLYNEW (a rollback restoring the previous
     * version), only the containers it creates start: a stopped one of the service
     * (a crashed new container whose restarts were held) stays stopped.
     */
    async startBeside(target: DeployTarget, service: string, oldIds: string[], replicas: number, onlyNew = false): Promise<string[]> {
      const host = hostOf(transportFor, target);
      const before = await containersOf(host, target.projectName, service);
      const fresh = (ids: string[]) => ids.filter((id) => !oldIds.includes(id));
      const missing = replicas - fresh(before).length;
      const project = composeProjectOf(target, target.composeVariant);
      if (missing > 0) {
        // Counted from what exists, so a retry after a partial scale-up adds only what is missing.
        await host.apply(composeScale(project, service, before.length + missing, { start: !onlyNew }), { timeoutMs: 10 * 60_000 });
      }
      const created = fresh(await containersOf(host, target.projectName, service));
      if (onlyNew && created.length > 0) await host.apply(startContainers(created), { timeoutMs: 5 * 60_000 });
      return created;
    },

    /** Stop-first: Compose recreates the service's container(s) in place. Returns the new ids. */
    async recreate(target: DeployTarget, service: string, oldIds: string[]): Promise<string[]> {
      const host = hostOf(transportFor, target);
      await host.apply(composeUpService(composeProjectOf(target, target.composeVariant), service), { timeoutMs: 10 * 60_000 });
      return (await containersOf(host, target.projectName, service)).filter((id) => !oldIds.includes(id));
    },

    /**
     * Waits until every container is healthy (or running, without a
     * healthcheck), reacting within half a second, and fails fast when one
     * turns unhealthy, exits or restarts.
     */
    async waitHealthy(target: DeployTarget, ids: string[], gate: 'docker' | 'running', timeoutMs: number): Promise<ContainerFacts[]> {
      const host = hostOf(transportFor, target);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const facts = await inspect(host, ids);
        const missing = ids.filter((id) => !facts.some((f) => f.id.startsWith(id) || id.startsWith(f.id)));
        if (missing.length) throw new HealthCheckFailedError(`container ${missing.map((m) => m.slice(0, 12)).join(', ')} disappeared`);
        for (const c of facts) {
          const failure = failureOf(c, gate);
          if (failure) throw new HealthCheckFailedError(`new container ${c.id.slice(0, 12)} ${failure}`);
        }
        const ready = facts.every((c) => c.state === 'running' && (gate === 'running' || c.health === 'healthy'));
        beat(facts.map(describe).join('; '));
        if (ready) return facts;
        if (Date.now() > deadline) {
          throw new HealthCheckFailedError(`not healthy after ${Math.round(timeoutMs / 1000)}s: ${facts.map(describe).join('; ')}`);
        }
        await pause(500);
      }
    },

    /** The bake window: the containers must stay fit for `durationMs`. */
    async watchHealthy(target: DeployTarget, ids: string[], gate: 'docker' | 'running', durationMs: number): Promise<void> {
      const host = hostOf(transportFor, target);
      const until = Date.now() + durationMs;
      while (Date.now() < until) {
        const facts = await inspect(host, ids);
        if (facts.length < ids.length) throw new HealthCheckFailedError('a new container disappeared during the bake window');
        for (const c of facts) {
          const failure = failureOf(c, gate);
          if (failure) throw new HealthCheckFailedError(`during the bake window, container ${c.id.slice(0, 12)} ${failure}`);
        }
        beat(`baking: ${Math.max(0, Math.round((until - Date.now()) / 1000))}s left`);
        await pause(Math.min(500, Math.max(0, until - Date.now())));
      }
    },

    /**
     * A rollback's first step for containers it is about to replace: Docker no longer restarts
     * them, so one that crashes stays out of the proxy's rotation instead of crash-looping in
     * and out of it while the previous version comes back. A running one loses its restart
     * policy; one that is down (crashed, waiting to be restarted) is stopped, which cancels the
     * restart and holds no request. Gone already is fine.
     */
    async holdRestarts(target: DeployTarget, ids: string[]): Promise<void> {
      const host = hostOf(transportFor, target);
      for (let look = 1; ; look++) {
        const facts = await inspect(host, ids);
        const running = facts.filter((c) => c.state === 'running').map((c) => c.id);
        const down = facts.filter((c) => c.state !== 'running').map((c) => c.id);
        const results = [
          ...(down.length > 0 ? [await host.effect(stopContainers(down, 0), { timeoutMs: 60_000 })] : []),
          ...(running.length > 0 ? [await host.effect(disableRestarts(running), { timeoutMs: 60_000 })] : []),
        ];
        const failed = results.find((r) => r.code !== 0);
        if (!failed) return;
        // Docker refuses to update a container that crashed since the inspect: look again (a
        // command repeated here is a new run, not the failed one).
        if (look >= 3) throw new CommandFailedError(failed.argv, failed.code, failed.output.slice(-2000).trim());
      }
    },

    /** Graceful stop (SIGTERM, then SIGKILL after the grace period), then removal. Gone already is fine. */
    async stopAndRemove(target: DeployTarget, ids: string[], graceMs: number): Promise<void> {
      await stopAndRemoveOn(hostOf(transportFor, target), ids, graceMs);
    },

    /** Points an image name back at an earlier image (a rollback without rebuilding). */
    async retagImage(target: DeployTarget, imageId: string, imageRef: string): Promise<void> {
      await hostOf(transportFor, target).apply(tagImage(imageId, imageRef), { timeoutMs: 60_000 });
    },
  };
}
