/**
 * From `composure.yml`, an environment and a ref to a deploy's input: the
 * plan (read from the host), the target, a deploy id. Secrets stay here: the
 * input names the host's key by reference only.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { EnvironmentConfig } from '../config/types';
import type { DeployInput } from '../deploy/types';
import { PlanError } from '../plan/order';
import { planEnvironment } from '../host/plan-environment';
import type { Transport } from '../transport';

export function newDeployId(now = new Date()): string {
  // Lowercase letters and digits only: it becomes part of image tags.
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `d${stamp}${randomBytes(3).toString('hex')}`;
}

export async function prepareDeploy(
  transport: Transport,
  env: EnvironmentConfig,
  options: { ref?: string; bakeMs?: number; requestedBy?: string; deployId?: string },
): Promise<DeployInput> {
  const view = await planEnvironment(transport, env, { ref: options.ref });
  if (view.plan.refused) {
    const refused = view.plan.services.filter((s) => s.action === 'refuse');
    throw new PlanError(`the plan refuses ${refused.map((s) => `${s.service} (${s.reasons.join('; ')})`).join(', ')}`);
  }
  return {
    deployId: options.deployId ?? newDeployId(),
    // As the user named it (for search); the plan carries the exact commit the deploy checks out.
    ref: view.plan.ref?.requested ?? options.ref ?? '',
    target: {
      environment: env.name,
      host: env.host,
      directory: env.directory,
      projectName: env.projectName,
      composeFiles: env.composeFiles,
      source: env.source,
      proxy: env.proxy,
      hooks: env.hooks,
      retention: env.retention,
      composeVariant: view.composeVariant,
    },
    plan: view.plan,
    bakeMs: options.bakeMs ?? 0,
    requestedBy: options.requestedBy ?? process.env.GITHUB_ACTOR ?? os.userInfo().username,
  };
}
