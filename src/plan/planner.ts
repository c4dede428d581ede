/**
 * The planner: pure. From what the user asked for (config), what the project
 * declares (compose view), what runs now and what would change, it decides
 * for each service what will happen and why. No I/O, no clock: the same
 * inputs always give the same plan, so it can be shown before a deploy and
 * recomputed inside one.
 */
import type { EnvironmentConfig } from '../config/types';
import type { ComposeModel, ComposeService } from '../compose/model';
import { formatDuration } from '../compose/duration';
import { MAX_STOP_GRACE_MS } from '../deploy/limits';
import { detectChange } from './change';
import { deployOrder, PlanError } from './order';
import { startFirstBlockers } from './strategy';
import type { ChangeEvidence, Plan, RunningService, ServicePlan } from './types';

export interface PlanInput {
  env: EnvironmentConfig;
  compose: ComposeModel;
  running: Record<string, RunningService>;
  changes: Record<string, ChangeEvidence>;
  ref?: { requested: string; commit?: string };
}

function hostLabel(env: EnvironmentConfig): string {
  return env.host.kind === 'local' ? 'local' : `ssh ${env.host.user}@${env.host.host}:${env.host.port}`;
}

function healthOf(service: ComposeService, env: EnvironmentConfig, running: RunningService | undefined): ServicePlan['health'] {
  const override = env.services[service.name]?.health;
  const timeoutMs = override?.timeoutMs ?? env.health.timeoutMs;
  const http = override?.http ?? env.health.http;
  if (http) return { kind: 'http', timeoutMs, httpPath: http.path, httpPort: http.port };
  if (service.healthcheck?.disabled) return { kind: 'running', timeoutMs };
  if (service.healthcheck || running?.imageHealthcheck) return { kind: 'docker', timeoutMs };
  return { kind: 'running', timeoutMs };
}

function planService(input: PlanInput, service: ComposeService): ServicePlan {
  const { env } = input;
  const override = env.services[service.name];
  const running = input.running[service.name];
  const isProxy = env.proxy.service === service.name;
  const { change, reason: changeReason } = detectChange(service, running, input.changes[service.name], env.directory);
  const base: ServicePlan = {
    service: service.name,
    action: 'skip',
    change,
    changeReason,
    reasons: [],
    warnings: [],
    isProxy,
    replicas: service.replicas,
    parallelism: Math.min(service.updateConfig.parallelism, Math.max(service.replicas, 1)),
    batchDelayMs: service.updateConfig.delayMs,
    monitorMs: service.updateConfig.monitorMs,
    health: healthOf(service, env, running),
    drainMs: override?.drainMs ?? env.drainMs,
    stopGraceMs: service.stopGraceMs,
  };
  const allowDowntime = override?.allowDowntime ?? env.allowDowntime;
  const downtimeHint = `set services.${service.name}.allow_downtime: true to accept stop-first with downtime`;

  if (override?.skip) return { ...base, action: 'skip', reasons: ['skip: true in composure.yml'] };
  if (base.stopGraceMs > MAX_STOP_GRACE_MS) {
    // The graceful stop is one step whose timeout must fit the grace period.
    return { ...base, action: 'refuse', reasons: [`stop_grace_period of ${service.name} is ${formatDuration(base.stopGraceMs)}, above the ${formatDuration(MAX_STOP_GRACE_MS)} a graceful stop may take`] };
  }

  // Nothing runs: there is no old container to keep serving, so nothing blocks
  // starting it and no request can be lost by doing so.
  if (!running || running.containers === 0) {
    return { ...base, action: 'deploy', strategy: 'start-first', reasons: ['not running now: it is started, with nothing to replace'] };
  }

  if (isProxy) {
    const published = service.ports.map((p) => (p.hostIp ? `${p.hostIp}:${p.published}` : p.published)).join(', ') || 'no host port';
    if (change === 'unchanged') {
      return { ...base, action: 'keep', reasons: [`it publishes ${published} and its definition is unchanged, so it stays up and keeps serving`] };
    }
    if (change === 'maybe') {
      return {
        ...base,
        action: 'keep',
        reasons: [`it publishes ${published}; it stays up unless its own definition changed`],
        warnings: ['if its definition did change, recreating it refuses connections while it restarts; the deploy checks this first'],
      };
    }
    const cost = `recreating the proxy refuses connections on ${published} while the old one stops and the new one starts (typically 1-3 s)`;
    return allowDowntime
      ? { ...base, action: 'deploy', strategy: 'stop-first', reasons: [`the proxy's own definition changed: ${changeReason}`], warnings: [`downtime: ${cost}`] }
      : { ...base, action: 'refuse', reasons: [`the proxy's own definition changed (${changeReason}), and ${cost}`, downtimeHint] };
  }

  if (change === 'unchanged') return { ...base, action: 'skip', reasons: ['unchanged, so it is left running'] };

  const conditional = change === 'maybe' ? ' (if its image changed)' : '';
  const requested = override?.strategy ?? service.updateConfig.order;
  const requestedBy = override?.strategy ? `services.${service.name}.strategy in composure.yml` : 'deploy.update_config.order in the compose file';
  const blockers = startFirstBlockers(service, override);
  const warnings: string[] = [];
  if (base.health.kind === 'running') {
    warnings.push('no healthcheck: "running" is taken as ready; add a Docker healthcheck or health.http so traffic only moves to a ready container');
  }
  if (service.updateConfig.failureAction !== 'rollback') {
    warnings.push(`update_config.failure_action: ${service.updateConfig.failureAction} is treated as rollback: a failed deploy never stays half-done`);
  }
  const downtime = `downtime: requests to ${service.name} fail from the old container's stop until the new one is healthy`;

  if (requested === 'stop-first') {
    return { ...base, action: 'deploy', strategy: 'stop-first', reasons: [`stop-first${conditional}, as ${requestedBy} asks`], warnings: [downtime, ...warnings] };
  }
  if (blockers.length > 0) {
    if (requested === 'start-first') {
      return { ...base, action: 'refuse', reasons: [`start-first is requested by ${requestedBy} but impossible: ${blockers.join('; ')}`] };
    }
    if (allowDowntime) {
      return { ...base, action: 'deploy', strategy: 'stop-first', reasons: [`stop-first${conditional}, because start-first is impossible: ${blockers.join('; ')}`], warnings: [downtime, ...warnings] };
    }
    return { ...base, action: 'refuse', reasons: [`start-first is impossible: ${blockers.join('; ')}`, downtimeHint] };
  }
  const batches = base.parallelism < service.replicas;
  const delay = batches && base.batchDelayMs > 0 ? ` with ${formatDuration(base.batchDelayMs)} between batches` : '';
  const count = service.replicas === 1 ? 'a new container' : batches ? `${service.replicas} new containers, ${base.parallelism} at a time${delay} (each batch's old stop before the next starts),` : `${service.replicas} new containers`;
  const gate = base.health.kind === 'running' ? 'running' : 'healthy';
  const monitor = base.monitorMs > 0 ? `, then must stay healthy for ${formatDuration(base.monitorMs)}` : '';
  return {
    ...base,
    action: 'deploy',
    strategy: 'start-first',
    reasons: [
      `start-first${conditional}: ${count} ${service.replicas === 1 ? 'starts beside the old, takes' : 'start beside the old, take'} traffic once ${gate}${monitor}; the old drains ${formatDuration(base.drainMs)} and stops within ${formatDuration(base.stopGraceMs)}`,
    ],
    warnings,
  };
}

export function plan(input: PlanInput): Plan {
  const { env, compose } = input;
  if (env.proxy.switch.kind !== 'none' && !env.proxy.service) {
    throw new PlanError(`proxy.switch is ${env.proxy.switch.kind}, so proxy.service must name the proxy's compose service`);
  }
  const order = deployOrder(compose, env.order, env.proxy.service);
  const services = order.map((name) => planService(input, compose.services[name]!));
  return {
    environment: env.name,
    project: env.projectName,
    directory: env.directory,
    host: hostLabel(env),
    ref: input.ref,
    services,
    refused: services.some((s) => s.action === 'refuse'),
    noop: services.every((s) => s.action !== 'deploy'),
  };
}
