/**
 * Activities: the effects. Created by a factory that receives the transports
 * (resolved by the worker, which holds the keys), so the same code runs over
 * SSH against a VPS or locally, and a test can hand in any Transport.
 */
import { composePs, composeVersion, type ComposeProject } from '../src/commands/compose';
import { parseComposePs, type ContainerState } from '../src/compose/ps';
import { runChecked, type Transport } from '../src/transport';
import type { HostConfig } from '../src/config/types';
import { createContainerActivities } from './containers';
import { heartbeating, type TransportFor } from './host';
import { createLockActivities } from './lock';
import { createPrepareActivities } from './prepare';
import { createProjectActivities } from './project';
import { createTrafficActivities } from './traffic';

export type { TransportFor } from './host';

export interface HostFacts {
  /** The account commands run as on the host. */
  user: string;
  composeVersion: string;
  transport: string;
}

export interface ProjectRef extends ComposeProject {
  /** The project directory on the host. */
  dir: string;
  /** The host; the worker's default host when omitted. */
  host?: HostConfig;
}

/** One transport for every host: the simple case (a worker next to one VPS, and tests). */
export function singleTransport(transport: Transport): TransportFor {
  return () => transport;
}

/** Every activity heartbeats on a timer while it runs (see heartbeating in ./host). */
function withTimerHeartbeats<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, heartbeating(fn)])) as T;
}

export function createActivities(transports: Transport | TransportFor) {
  const transportFor: TransportFor = typeof transports === 'function' ? transports : singleTransport(transports);
  return withTimerHeartbeats({
    async hostFacts(host?: HostConfig): Promise<HostFacts> {
      const transport = transportFor(host);
      const user = await runChecked(transport, ['id', '-un'], { timeoutMs: 30_000 });
      const version = await runChecked(transport, composeVersion(), { timeoutMs: 30_000 });
      return { user: user.stdout.trim(), composeVersion: version.stdout.trim(), transport: transport.description };
    },

    async composePs(project: ProjectRef): Promise<ContainerState[]> {
      const result = await runChecked(transportFor(project.host), composePs(project), { cwd: project.dir, timeoutMs: 60_000 });
      return parseComposePs(result.stdout);
    },

    ...createLockActivities(transportFor),
    ...createProjectActivities(transportFor),
    ...createContainerActivities(transportFor),
    ...createTrafficActivities(transportFor),
    ...createPrepareActivities(transportFor),
  });
}

export type Activities = ReturnType<typeof createActivities>;
