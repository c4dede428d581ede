/** `composure plan <env>`: what a deploy would do to each service, and why. Changes nothing on the host. */
import { planEnvironment } from '../../host/plan-environment';
import { formatPlan } from '../../plan/format';
import { ExitCode } from '../exit-codes';
import { checkRef, loadEnvironment, transportFor } from '../context';

export interface PlanOptions {
  config: string;
  ref?: string;
  json?: boolean;
}

export async function planCommand(environment: string, options: PlanOptions): Promise<number> {
  const { env } = loadEnvironment(options.config, environment);
  checkRef(env, options.ref);
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
