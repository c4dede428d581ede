/** `composure plan <env>`: what a deploy would do to each service, and why. Changes nothing on the host. */
import { commitSha, gitRef, imageTag } from '../../commands/validate';
import { planEnvironment } from '../../host/plan-environment';
import { formatPlan } from '../../plan/format';
import { ExitCode } from '../exit-codes';
import { loadEnvironment, transportFor } from '../context';

export interface PlanOptions {
  config: string;
  ref?: string;
  json?: boolean;
}

export async function planCommand(environment: string, options: PlanOptions): Promise<number> {
  const { env } = loadEnvironment(options.config, environment);
  // The ref reaches the host's shell: refuse a bad one before connecting.
  if (options.ref !== undefined) {
    if (env.source.kind === 'image') imageTag(options.ref);
    else if (!/^[0-9a-f]{40}$/.test(options.ref)) gitRef(options.ref);
    else commitSha(options.ref);
  }
  const transport = transportFor(options.config, env);
  try {
    const view = await planEnvironment(transport, env, { ref: options.ref });
    if (options.json) {
      console.log(JSON.stringify({ ...view.plan, compose: { variant: view.composeVariant, version: view.composeVersion } }, null, 2));
    } else {
      console.log(formatPlan(view.plan));
      console.log(`\n(Compose ${view.composeVariant} ${view.composeVersion} on ${transport.description})`);
    }
    return view.plan.refused ? ExitCode.invalidInput : ExitCode.ok;
  } finally {
    await transport.close();
  }
}
