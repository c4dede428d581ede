/**
 * Everything `composure plan` needs, read from the host, handed to the pure
 * planner. Read-only: a plan changes nothing on the host but git's fetched
 * objects.
 */
import type { EnvironmentConfig } from '../config/types';
import type { ComposeModel } from '../compose/model';
import { plan as makePlan } from '../plan/planner';
import type { ChangeEvidence, Plan } from '../plan/types';
import type { Transport } from '../transport';
import { detectCompose, readComposeModel, readGitTarget, readRunning, HostStateError } from './inspect';

export interface EnvironmentView {
  plan: Plan;
  compose: ComposeModel;
  composeVariant: 'v2' | 'v1';
  composeVersion: string;
}

export async function planEnvironment(transport: Transport, env: EnvironmentConfig, options: { ref?: string } = {}): Promise<EnvironmentView> {
  const { variant, version } = await detectCompose(transport);
  const compose = await readComposeModel(transport, env, variant);
  const running = await readRunning(transport, env.projectName);
  const changes: Record<string, ChangeEvidence> = {};
  let ref: Plan['ref'];
  if (env.source.kind === 'git') {
    const target = await readGitTarget(transport, env, options.ref);
    for (const name of Object.keys(compose.services)) changes[name] = target.evidence;
    ref = { requested: target.requested, commit: target.commit };
  } else {
    if (!options.ref) throw new HostStateError(`source.image needs a ref: the tag to deploy (--ref), passed as $${env.source.variable}`);
    // Compose interpolates the tag for this one command: the host's .env is not touched by a plan.
    const next = await readComposeModel(transport, env, variant, { [env.source.variable]: options.ref });
    for (const [name, service] of Object.entries(next.services)) {
      if (service.image && !service.buildContext) changes[name] = { kind: 'tag', currentImage: compose.services[name]?.image, nextImage: service.image };
    }
    ref = { requested: options.ref };
  }
  return { plan: makePlan({ env, compose, running, changes, ref }), compose, composeVariant: variant, composeVersion: version };
}
