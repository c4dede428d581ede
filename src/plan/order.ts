/** Deploy order: dependencies before dependents (depends_on), unless the config names an order. */
import type { ComposeModel } from '../compose/model';

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** Topological order by depends_on; ties by name, so the order is stable. */
export function dependencyOrder(compose: ComposeModel): string[] {
  const names = Object.keys(compose.services).sort();
  const done = new Set<string>();
  const visiting: string[] = [];
  const order: string[] = [];
  const visit = (name: string) => {
    if (done.has(name)) return;
    if (visiting.includes(name)) throw new PlanError(`depends_on has a cycle: ${[...visiting.slice(visiting.indexOf(name)), name].join(' -> ')}`);
    visiting.push(name);
    for (const dep of [...(compose.services[name]?.dependsOn ?? [])].sort()) {
      if (compose.services[dep]) visit(dep);
    }
    visiting.pop();
    done.add(name);
    order.push(name);
  };
  names.forEach(visit);
  return order;
}

/**
 * The services in the order they are deployed. A configured order must name
 * existing services; services it leaves out follow in dependency order. The
 * proxy goes last: it is only recreated when its own definition changed.
 */
export function deployOrder(compose: ComposeModel, configured: string[] | undefined, proxy: string | undefined): string[] {
  for (const name of configured ?? []) {
    if (!compose.services[name]) throw new PlanError(`order names "${name}", which is not a service of ${compose.name} (services: ${Object.keys(compose.services).join(', ')})`);
  }
  if (proxy && !compose.services[proxy]) throw new PlanError(`proxy.service "${proxy}" is not a service of ${compose.name}`);
  const rest = dependencyOrder(compose).filter((s) => !(configured ?? []).includes(s));
  const all = [...(configured ?? []), ...rest];
  return proxy ? [...all.filter((s) => s !== proxy), proxy] : all;
}
