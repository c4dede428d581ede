/**
 * The project as a whole: the source checkout, the build, the snapshot to
 * return to, hooks, and the release ledger. The host lock is in ./lock.
 */
import { composeBuild, composePull, composeRun, composePs } from '../src/commands/compose';
import { inspectImages, listImageTags, removeImages, tagImage } from '../src/commands/docker';
import { appendLine, makeDirectory, readFile, setEnvFileVariable } from '../src/commands/files';
import { imageTag as checkImageTag } from '../src/commands/validate';
import { readEnvFileValue } from '../src/compose/dotenv';
import { gitCheckout, gitFetch, gitHead, gitStatusPorcelain } from '../src/commands/git';
import type { ComposeModel } from '../src/compose/model';
import { parseComposePs } from '../src/compose/ps';
import type { HookConfig } from '../src/config/types';
import { BuildFailedError, DeployError, HookFailedError } from '../src/deploy/errors';
import { BUILD_TIMEOUT_MS } from '../src/deploy/limits';
import type { DeployTarget, Snapshot } from '../src/deploy/types';
import { CommandTimeoutError } from '../src/transport';
import { composeProjectOf, readComposeModel, readRunning, resolveCommit } from '../src/host/inspect';
import { beat, hostOf, pruneOldRuns, type Host, type TransportFor } from './host';

/** The checkout has edits a forced checkout would destroy. */
export class DirtyCheckoutError extends DeployError {}

const stateDir = (target: DeployTarget) => `${target.directory}/.composure`;

/** Compose reads `.env` from the project directory: the first compose file's directory. */
function envFileOf(target: Pick<DeployTarget, 'directory' | 'composeFiles'>): string {
  const first = target.composeFiles[0];
  const dir = first && first.includes('/') ? `${target.directory}/${first.slice(0, first.lastIndexOf('/'))}` : target.directory;
  return `${dir}/.env`;
}

/** Image source: the tag variable's value in `.env`, or undefined (no file, or not set). Only this value is read out. */
async function readImageTag(host: Host, target: DeployTarget, variable: string): Promise<string | undefined> {
  const envFile = await host.exec(readFile(envFileOf(target)));
  return envFile.code === 0 ? readEnvFileValue(envFile.stdout, variable) : undefined;
}

/** The image a service runs as Compose names it: `image:` or, for a build, "<project>-<service>". */
export function imageRefOf(compose: ComposeModel, project: string, service: string): string {
  return compose.services[service]?.image ?? `${project}-${service}`;
}

/** Throttles build output into heartbeats: the last line, at most every second. */
function progressBeat(prefix: string) {
  let last = 0;
  return (chunk: string) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    const line = chunk.trim().split('\n').at(-1) ?? '';
    beat(`${prefix}: ${line.slice(0, 200)}`);
  };
}

export function createProjectActivities(transportFor: TransportFor) {
  return {
    /** What runs now, with each served image tagged so a rollback needs no rebuild. */
    async snapshot(target: DeployTarget, deployId: string): Promise<Snapshot> {
      const host = hostOf(transportFor, target);
      const compose = await readComposeModel(host.transport, target, target.composeVariant);
      const running = await readRunning(host.transport, target.projectName);
      const services: Snapshot['services'] = {};
      for (const name of Object.keys(compose.services)) {
        // readRunning has listed them already (by the same Compose labels): no second round trip.
        const containerIds = running[name]?.containerIds ?? [];
        const imageId = running[name]?.imageId?.includes(',') ? undefined : running[name]?.imageId;
        const imageRef = imageRefOf(compose, target.projectName, name);
        let rollbackTag: string | undefined;
        if (imageId) {
          rollbackTag = `composure-rollback/${target.projectName}-${name}:${deployId}`;
          await host.apply(tagImage(imageId, rollbackTag));
        }
        services[name] = { containerIds, imageId, imageRef, rollbackTag };
      }
      if (target.source.kind !== 'image') return { compose, running, services };
      const current = await readImageTag(host, target, target.source.variable);
      // A value Composure could not write back is refused now, before anything changed.
      if (current !== undefined && current !== '') checkImageTag(current);
      return { compose, running, services, imageTag: current || null };
    },

    /**
     * Image source: points the project's `.env` at TAG (null removes the
     * variable), so Compose, and anyone running `docker compose` on the host,
     * sees the deployed version. Idempotent.
     */
    async setImageTag(target: DeployTarget, tag: string | null): Promise<void> {
      if (target.source.kind !== 'image') throw new DeployError('setImageTag needs an image source');
      await hostOf(transportFor, target).apply(setEnvFileVariable(envFileOf(target), target.source.variable, tag ?? undefined));
    },

    /** Fetches and resolves the ref; the checkout itself is a separate, idempotent step. */
    async resolveSource(target: DeployTarget, ref: string): Promise<{ head: string; commit: string }> {
      if (target.source.kind !== 'git') throw new DeployError('resolveSource needs a git source');
      const host = hostOf(transportFor, target);
      await host.apply(gitFetch(target.source.remote, target.source.branch), { timeoutMs: 5 * 60_000 });
      const commit = await resolveCommit(host.transport, target.directory, target.source.remote, ref, ref === target.source.branch);
      const head = (await host.run(gitHead())).stdout.trim();
      const dirty = (await host.run(gitStatusPorcelain())).stdout.trim();
      if (dirty) throw new DirtyCheckoutError(`${target.directory} has local changes a deploy would discard:\n${dirty.slice(0, 1000)}`);
      return { head, commit };
    },

    async checkout(target: DeployTarget, commit: string): Promise<void> {
      await hostOf(transportFor, target).apply(gitCheckout(commit));
    },

    /** Builds (or pulls) the images of `services` while the old containers keep serving. */
    async build(target: DeployTarget, services: string[], kind: 'build' | 'pull'): Promise<void> {
      if (services.length === 0) return;
      const host = hostOf(transportFor, target);
      const project = composeProjectOf(target, target.composeVariant);
      const argv = kind === 'build' ? composeBuild(project, services) : composePull(project, services);
      const result = await host
        .effect(argv, { timeoutMs: BUILD_TIMEOUT_MS, maxOutputBytes: 64 * 1024, onOutput: progressBeat(kind) })
        .catch((err: unknown) => {
          if (err instanceof CommandTimeoutError) throw new BuildFailedError(`docker compose ${kind} ${services.join(' ')} did not finish within ${BUILD_TIMEOUT_MS / 60_000} min`);
          throw err;
        });
      if (result.code !== 0) {
        throw new BuildFailedError(`docker compose ${kind} ${services.join(' ')} failed (exit ${result.code}):\n${result.output.trim().slice(-3000)}`);
      }
    },

    /** The compose view of the (new) checkout and the image each service would now run. */
    async inspectTarget(target: DeployTarget, services: string[]): Promise<{ compose: ComposeModel; images: Record<string, string | undefined> }> {
      const host = hostOf(transportFor, target);
      const compose = await readComposeModel(host.transport, target, target.composeVariant);
      const images: Record<string, string | undefined> = {};
      for (const service of services) {
        const ref = imageRefOf(compose, target.projectName, service);
        const result = await host.exec(inspectImages([ref]));
        images[service] = result.code === 0 ? (JSON.parse(result.stdout) as Array<{ Id: string }>)[0]?.Id : undefined;
      }
      return { compose, images };
    },

    /**
     * Runs a hook once. A retried attempt (the worker died, the connection
     * dropped) waits for the run the first attempt started and takes its exit
     * status; it never starts the hook again. A hook that times out is stopped
     * and fails the deploy, like one that exits non-zero.
     */
    async runHook(target: DeployTarget, hook: HookConfig): Promise<{ output: string; attached: boolean }> {
      const host = hostOf(transportFor, target);
      const what = `hook "${hook.command.join(' ')}" in ${hook.service}`;
      const result = await host
        .effect(composeRun(composeProjectOf(target, target.composeVariant), hook.service, hook.command), {
          timeoutMs: hook.timeoutMs,
          maxOutputBytes: 64 * 1024,
          onOutput: progressBeat(`hook ${hook.command[0]}`),
        })
        .catch((err: unknown) => {
          if (err instanceof CommandTimeoutError) throw new HookFailedError(`${what} did not finish within ${Math.round(hook.timeoutMs / 1000)}s and was stopped`);
          throw err;
        });
      if (result.code !== 0) throw new HookFailedError(`${what} failed (exit ${result.code}): ${result.output.trim().slice(-2000)}`);
      return { output: result.output.slice(-4000), attached: result.attached };
    },

    /**
     * Appends the release to the host's ledger, `.composure/releases.jsonl`,
     * and keeps only the newest `retention.releases` rollback tags per service
     * (deploy ids sort by time). Untagging frees an image only when nothing
     * else uses it.
     */
    async recordRelease(target: DeployTarget, record: Record<string, unknown>): Promise<void> {
      const host = hostOf(transportFor, target);
      await host.run(makeDirectory(stateDir(target), { parents: true }));
      // Once: a retried attempt must not write the release twice.
      await host.apply(appendLine(`${stateDir(target)}/releases.jsonl`, JSON.stringify(record)));
      const tags = (await host.run(listImageTags(`composure-rollback/${target.projectName}-*`))).stdout.split('\n').filter(Boolean);
      const byRepository = new Map<string, string[]>();
      for (const tag of tags) {
        const repository = tag.slice(0, tag.lastIndexOf(':'));
        byRepository.set(repository, [...(byRepository.get(repository) ?? []), tag]);
      }
      const expired = [...byRepository.values()].flatMap((list) => list.sort().reverse().slice(target.retention.releases));
      // Best effort: a tag whose image a container still runs cannot be removed, and need not be.
      for (const tag of expired) await host.effect(removeImages([tag]));
      await pruneOldRuns(host, target);
    },

    /** What runs on the host, in words: for a compensation that could not finish. */
    async describeHost(target: DeployTarget): Promise<string> {
      const host = hostOf(transportFor, target);
      const ps = await host.exec(composePs(composeProjectOf(target, 'v2')));
      let source: string;
      if (target.source.kind === 'image') {
        source = `${target.source.variable}=${(await readImageTag(host, target, target.source.variable)) || '(unset)'} in .env`;
      } else {
        source = `checkout ${(await host.exec(gitHead())).stdout.trim().slice(0, 12)}`;
      }
      const containers = parseComposePs(ps.stdout)
        .map((c) => `${c.service}: ${c.name} ${c.state}${c.health ? ` (${c.health})` : ''} image ${c.image}`)
        .join('; ');
      return `${source}; ${containers || 'no containers'}`;
    },
  };
}
