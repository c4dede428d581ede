/**
 * Reading a host: which Compose it has, the project as Compose sees it, what
 * runs now, and what a git ref would change. Thin functions over a Transport
 * and the command builders, shared by the CLI (`composure plan`) and the
 * activities. Nothing here changes the host's working tree or containers.
 */
import { composeConfig, composeVersionCommands, type ComposeProject, type ComposeVariant } from '../commands/compose';
import { inspectContainers, inspectImages, listServiceContainers } from '../commands/docker';
import { gitChangedFiles, gitFetch, gitHead, gitResolveCommit, gitShowFile } from '../commands/git';
import { parseComposeConfig, type ComposeModel } from '../compose/model';
import type { EnvironmentConfig } from '../config/types';
import { compareComposeVersions } from '../plan/compose-diff';
import { RefNotFoundError } from '../deploy/errors';
import type { ChangeEvidence, RunningService } from '../plan/types';
import { runChecked, type Transport } from '../transport';

/** Compose's default file names, in its lookup order, for projects that name none. */
const DEFAULT_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

export class HostStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostStateError';
  }
}

/** Compose v2 if the host has it, else v1; the host must have one of them. */
export async function detectCompose(transport: Transport): Promise<{ variant: ComposeVariant; version: string }> {
  const probes = composeVersionCommands();
  for (const variant of ['v2', 'v1'] as const) {
    const result = await transport.exec(probes[variant], { timeoutMs: 30_000 });
    if (result.code === 0) return { variant, version: result.stdout.trim().replace(/^v/, '') };
  }
  throw new HostStateError(`${transport.description} has neither "docker compose" (v2) nor "docker-compose" (v1)`);
}

export function composeProjectOf(env: Pick<EnvironmentConfig, 'projectName' | 'composeFiles'>, variant: ComposeVariant, environment?: Record<string, string>): ComposeProject {
  return { name: env.projectName, files: env.composeFiles, variant, ...(environment ? { environment } : {}) };
}

/** The resolved compose project; `environment` overrides `.env` for this read only (an image source's next tag). */
export async function readComposeModel(
  transport: Transport,
  env: Pick<EnvironmentConfig, 'projectName' | 'composeFiles' | 'directory'>,
  variant: ComposeVariant,
  environment?: Record<string, string>,
): Promise<ComposeModel> {
  const result = await transport.exec(composeConfig(composeProjectOf(env, variant, environment)), { cwd: env.directory, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new HostStateError(`docker compose config failed in ${env.directory} on ${transport.description}: ${result.stderr.trim().slice(-1000)}`);
  }
  return parseComposeConfig(result.stdout);
}

interface InspectedContainer {
  Id: string;
  Image: string;
  State?: { Status?: string; Health?: { Status?: string } };
  Config?: { Labels?: Record<string, string> };
}

/** What runs now, per service, found by Compose's labels (never by container names). */
export async function readRunning(transport: Transport, projectName: string): Promise<Record<string, RunningService>> {
  const ps = await runChecked(transport, listServiceContainers(projectName), { timeoutMs: 60_000 });
  const ids = ps.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { ID: string }).ID);
  if (ids.length === 0) return {};
  const inspected = JSON.parse((await runChecked(transport, inspectContainers(ids), { timeoutMs: 60_000 })).stdout) as InspectedContainer[];
  const imageIds = [...new Set(inspected.map((c) => c.Image))];
  const images = JSON.parse((await runChecked(transport, inspectImages(imageIds), { timeoutMs: 60_000 })).stdout) as Array<{
    Id: string;
    Config?: { Healthcheck?: { Test?: string[] } };
  }>;
  const healthcheckOf = new Map(images.map((i) => [i.Id, !!i.Config?.Healthcheck?.Test?.length && i.Config.Healthcheck.Test[0] !== 'NONE']));
  const running: Record<string, RunningService> = {};
  for (const container of inspected) {
    const service = container.Config?.Labels?.['com.docker.compose.service'];
    if (!service) continue;
    const entry = (running[service] ??= { containers: 0, containerIds: [] });
    entry.containers += 1;
    entry.containerIds = [...(entry.containerIds ?? []), container.Id].sort();
    // With several containers of different images, the newest decides nothing: any difference is a change.
    entry.imageId = entry.imageId && entry.imageId !== container.Image ? `${entry.imageId},${container.Image}` : container.Image;
    entry.imageHealthcheck = healthcheckOf.get(container.Image) ?? false;
  }
  return running;
}

const gitRemoteIsName = (remote: string) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(remote);

/**
 * The commit a ref names, after a fetch. A name is looked up as the remote's
 * branch first (a local branch of the same name may be stale), then as a tag,
 * local branch or SHA. With a URL remote there are no remote-tracking refs:
 * the fetched branch head is FETCH_HEAD.
 */
export async function resolveCommit(transport: Transport, directory: string, remote: string, ref: string, isBranchHead: boolean): Promise<string> {
  const candidates = gitRemoteIsName(remote) ? [`${remote}/${ref}`, ref] : isBranchHead ? ['FETCH_HEAD'] : [ref];
  for (const candidate of candidates) {
    const result = await transport.exec(gitResolveCommit(candidate), { cwd: directory, timeoutMs: 60_000 });
    if (result.code === 0) return result.stdout.trim();
  }
  throw new RefNotFoundError(`ref "${ref}" names no commit in ${directory} after fetching ${remote}`);
}

export interface GitTarget {
  /** The ref as the user named it. */
  requested: string;
  commit: string;
  head: string;
  evidence: ChangeEvidence;
}

/**
 * Fetches and resolves the target ref, and lists what checking it out would
 * change. Fetching updates only the repository's objects and remote refs,
 * never the checked-out files.
 */
export async function readGitTarget(transport: Transport, env: EnvironmentConfig, ref: string | undefined): Promise<GitTarget> {
  if (env.source.kind !== 'git') throw new HostStateError('readGitTarget needs a git source');
  const { remote, branch } = env.source;
  const opts = { cwd: env.directory, timeoutMs: 120_000 };
  await runChecked(transport, gitFetch(remote, branch), opts);
  const requested = ref ?? branch;
  const commit = await resolveCommit(transport, env.directory, remote, ref ?? branch, ref === undefined);
  const head = (await runChecked(transport, gitHead(), opts)).stdout.trim();
  const changedFiles = (await runChecked(transport, gitChangedFiles(head, commit), opts)).stdout.split('\n').filter(Boolean);
  const composeFiles = env.composeFiles.length ? env.composeFiles : DEFAULT_COMPOSE_FILES;
  const composeFilesChanged = changedFiles.filter((f) => composeFiles.includes(f));
  const changedDefinitions = new Set<string>();
  let otherComposeChanges = false;
  for (const file of composeFilesChanged) {
    const show = async (sha: string) => {
      const result = await transport.exec(gitShowFile(sha, file), opts);
      return result.code === 0 ? result.stdout : undefined;
    };
    const diff = compareComposeVersions(await show(head), await show(commit));
    diff.changedDefinitions.forEach((s) => changedDefinitions.add(s));
    otherComposeChanges ||= diff.otherChanges;
  }
  return {
    requested,
    commit,
    head,
    evidence: { kind: 'files', changedFiles, composeFilesChanged, changedDefinitions: [...changedDefinitions].sort(), otherComposeChanges },
  };
}
