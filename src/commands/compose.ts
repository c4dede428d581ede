/**
 * Docker Compose commands as data: pure functions returning argv arrays that a
 * transport runs elsewhere (Kamal's Commands classes are the model).
 *
 * Every value placed in argv is checked with a validator from validate.ts, so
 * a hostile value throws `InvalidValueError` before anything runs. Nothing here
 * quotes: argv is quoted once, by the SSH transport.
 */
import { commandArgv } from './docker';
import { envVarName, imageTag, InvalidValueError, projectName, relativePath, replicaCount, serviceName } from './validate';

/** Compose v2 is the `docker compose` CLI plugin; v1 is the standalone `docker-compose`. */
export type ComposeVariant = 'v2' | 'v1';

export interface ComposeProject {
  /** The compose project name (`-p`), which Compose stores as a container label. */
  name: string;
  /** Compose files relative to the project directory; empty means Compose's default lookup. */
  files?: readonly string[];
  /** Which Compose runs the project; 'v2' when absent. */
  variant?: ComposeVariant;
  /**
   * Variables for Compose's interpolation, set for this command only (they win over `.env`):
   * how a plan sees an image source's next tag without changing the host.
   */
  environment?: Readonly<Record<string, string>>;
}

const variantOf = (project: ComposeProject): ComposeVariant => {
  const variant = project.variant ?? 'v2';
  if (variant !== 'v2' && variant !== 'v1') throw new InvalidValueError('compose variant', variant, 'either "v2" or "v1"');
  return variant;
};

/** `[env NAME=VALUE…] docker compose -p NAME [-f FILE]… ARGS…`, or `docker-compose …` for v1. */
export function compose(project: ComposeProject, ...args: string[]): string[] {
  const program = variantOf(project) === 'v1' ? ['docker-compose'] : ['docker', 'compose'];
  const files = (project.files ?? []).flatMap((file) => ['-f', relativePath(file)]);
  // Values are image tags only: nothing else is ever interpolated this way.
  const environment = Object.entries(project.environment ?? {}).map(([name, value]) => `${envVarName(name)}=${imageTag(value)}`);
  return [...(environment.length ? ['env', ...environment] : []), ...program, '-p', projectName(project.name), ...files, ...args];
}

/** At least one service, each a valid service name. */
function serviceList(services: readonly string[], what: string): string[] {
  if (!Array.isArray(services) || services.length === 0) throw new InvalidValueError('service list', services, `${what} needs at least one service`);
  return services.map((service) => serviceName(service));
}

/**
 * Every container of the project, running or not, one JSON object per line.
 * v2 only: v1's `ps` has no JSON output; list a v1 project's containers by
 * label instead (`listServiceContainers` in docker.ts).
 */
export function composePs(project: ComposeProject): string[] {
  if (variantOf(project) === 'v1') {
    throw new Error('docker-compose v1 cannot print ps as JSON; list the containers by label with listServiceContainers');
  }
  return compose(project, 'ps', '--all', '--format', 'json');
}

/** Prints the Compose v2 version alone, e.g. "2.29.7". */
export function composeVersion(): string[] {
  return ['docker', 'compose', 'version', '--short'];
}

/** Both version probes; detection tries v2 first, then v1. Each prints the version alone. */
export function composeVersionCommands(): { v2: string[]; v1: string[] } {
  return { v2: composeVersion(), v1: ['docker-compose', 'version', '--short'] };
}

/** The resolved project model: JSON from v2, YAML from v1 (the caller parses both). */
export function composeConfig(project: ComposeProject): string[] {
  return variantOf(project) === 'v1' ? compose(project, 'config') : compose(project, 'config', '--format', 'json');
}

/**
 * `config --hash svc1,svc2`: one "service hash" line per service, comparable
 * with the `com.docker.compose.config-hash` label of v2's containers. v2 only.
 */
export function composeConfigHash(project: ComposeProject, services: readonly string[]): string[] {
  if (variantOf(project) === 'v1') {
    throw new Error('composeConfigHash needs Compose v2: docker-compose v1 hashes service configs differently from the labels Composure compares');
  }
  return compose(project, 'config', '--hash', serviceList(services, 'config --hash').join(','));
}

/** Builds the services' images while the old containers keep serving. */
export function composeBuild(project: ComposeProject, services: readonly string[], opts: { pull?: boolean } = {}): string[] {
  const names = serviceList(services, 'build');
  return compose(project, 'build', ...(opts.pull === true ? ['--pull'] : []), ...names);
}

/** Pulls the services' images (for image-sourced projects). */
export function composePull(project: ComposeProject, services: readonly string[]): string[] {
  return compose(project, 'pull', ...serviceList(services, 'pull'));
}

/**
 * Start-first: scales SERVICE to COUNT containers, starting the new ones
 * beside the old. `--no-recreate` leaves the running containers untouched,
 * `--no-deps` leaves other services alone, `--no-build` uses the image built before.
 * With `start: false` the new containers are only created (`--no-start`): Compose would
 * otherwise also start every stopped container of the service, crashed ones included.
 */
export function composeScale(project: ComposeProject, service: string, count: number, options: { start?: boolean } = {}): string[] {
  const name = serviceName(service);
  const n = replicaCount(count);
  return compose(project, 'up', options.start === false ? '--no-start' : '--detach', '--no-deps', '--no-recreate', '--no-build', '--scale', `${name}=${n}`, name);
}

/** Stop-first: recreates SERVICE's containers from its current definition (a short outage). */
export function composeUpService(project: ComposeProject, service: string): string[] {
  return compose(project, 'up', '--detach', '--no-deps', '--no-build', serviceName(service));
}

/**
 * A one-off container of SERVICE running ARGV (hooks such as migrations), removed afterwards.
 *
 * No `--` is emitted: Compose v2 (checked with 2.29.7) stops parsing options at
 * the service name and hands a following `--` to the container as the command
 * itself. Instead the command may not start with "-" (and must be present),
 * so it cannot be read as an option by either Compose. Each element may hold
 * any text but NUL, CR or LF; the transport quotes it.
 */
export function composeRun(project: ComposeProject, service: string, argv: readonly string[]): string[] {
  const name = serviceName(service);
  return compose(project, 'run', '--rm', '--no-deps', '-T', name, ...commandArgv(argv));
}
