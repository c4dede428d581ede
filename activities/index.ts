/**
 * Activities: the effects. Created by a factory that receives the transport,
 * so the same code runs over SSH against a VPS or locally, and a test can hand
 * in any Transport.
 */
import { composePs, composeVersion, type ComposeProject } from '../src/commands/compose';
import { parseComposePs, type ContainerState } from '../src/compose/ps';
import { runChecked, type Transport } from '../src/transport';

export interface HostFacts {
  /** The account commands run as on the host. */
  user: string;
  composeVersion: string;
  transport: string;
}

export interface ProjectRef extends ComposeProject {
  /** The project directory on the host. */
  dir: string;
}

export function createActivities(transport: Transport) {
  return {
    async hostFacts(): Promise<HostFacts> {
      const user = await runChecked(transport, ['id', '-un'], { timeoutMs: 30_000 });
      const version = await runChecked(transport, composeVersion(), { timeoutMs: 30_000 });
      return { user: user.stdout.trim(), composeVersion: version.stdout.trim(), transport: transport.description };
    },

    async composePs(project: ProjectRef): Promise<ContainerState[]> {
      const result = await runChecked(transport, composePs(project), { cwd: project.dir, timeoutMs: 60_000 });
      return parseComposePs(result.stdout);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
