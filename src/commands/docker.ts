/**
 * Docker Engine commands as data: pure functions returning argv arrays.
 *
 * A project's containers are found by the labels Compose puts on them
 * (`com.docker.compose.project`, `com.docker.compose.service`), never by name
 * patterns: names differ between Compose versions and any container may be
 * named to look like a project's. Every value is validated (validate.ts)
 * before it is placed in argv; nothing here quotes.
 */
import { containerId, imageId, imageRef, InvalidValueError, projectName, serviceName, wholeSeconds } from './validate';

/** Longest single argument accepted for a command run inside a container. */
const MAX_COMMAND_ARG = 32_768;
/** Most arguments accepted for a command run inside a container. */
const MAX_COMMAND_ARGS = 1_000;

/**
 * A command to run inside a container (a hook, a probe): at least one
 * element, each a string of any text except NUL, CR and LF (the transport
 * quotes it), and a first element that does not start with "-", so neither
 * Docker nor Compose can read the command as one of its own options.
 */
export function commandArgv(argv: readonly string[]): string[] {
  const kind = 'command';
  if (!Array.isArray(argv)) throw new InvalidValueError(kind, argv, 'must be an array of strings');
  if (argv.length === 0) throw new InvalidValueError(kind, argv, 'is empty');
  if (argv.length > MAX_COMMAND_ARGS) throw new InvalidValueError(kind, `${argv.length} arguments`, `more than ${MAX_COMMAND_ARGS} arguments`);
  const checked = argv.map((arg: unknown, i) => {
    if (typeof arg !== 'string') throw new InvalidValueError(kind, arg, `argument ${i} must be a string`);
    if (/[\0\r\n]/.test(arg)) throw new InvalidValueError(kind, arg, `argument ${i} contains a NUL, CR or LF`);
    if (arg.length > MAX_COMMAND_ARG) throw new InvalidValueError(kind, `${arg.slice(0, 40)}…`, `argument ${i} is longer than ${MAX_COMMAND_ARG} characters`);
    return arg;
  });
  const first = checked[0];
  if (first !== undefined && first.startsWith('-')) throw new InvalidValueError(kind, first, 'starts with "-" (would be read as an option)');
  return checked;
}

function nonEmpty<T>(values: readonly T[], kind: string): readonly T[] {
  if (!Array.isArray(values) || values.length === 0) throw new InvalidValueError(kind, values, 'needs at least one');
  return values;
}

const containerIds = (ids: readonly string[]): string[] => nonEmpty(ids, 'container id list').map((id) => containerId(id));

const isImageId = (value: string): boolean => {
  try {
    imageId(value);
    return true;
  } catch {
    return false;
  }
};

/** An image id (`sha256:…` or hex) or an image reference (`name[:tag][@digest]`). */
function imageRefOrId(value: unknown): string {
  if (typeof value === 'string' && isImageId(value)) return value;
  try {
    return imageRef(value);
  } catch (err) {
    throw new InvalidValueError('image reference or id', value, err instanceof InvalidValueError ? err.reason : 'not an image id or reference');
  }
}

const imageRefsOrIds = (refs: readonly string[]): string[] => nonEmpty(refs, 'image list').map((ref) => imageRefOrId(ref));

/**
 * Every container of PROJECT (and of SERVICE, when given), running or not,
 * one JSON object per line, with full ids.
 */
export function listServiceContainers(project: string, service?: string): string[] {
  const filters = ['--filter', `label=com.docker.compose.project=${projectName(project)}`];
  if (service !== undefined) filters.push('--filter', `label=com.docker.compose.service=${serviceName(service)}`);
  return ['docker', 'ps', '--all', '--no-trunc', ...filters, '--format', '{{json .}}'];
}

/** The full state of one or more containers (health, labels, image, networks), as a JSON array. */
export function inspectContainers(ids: readonly string[]): string[] {
  return ['docker', 'inspect', '--type', 'container', ...containerIds(ids)];
}

/** SIGTERM, then SIGKILL after TIMEOUT seconds (the drain window). */
export function stopContainers(ids: readonly string[], timeoutSeconds: number): string[] {
  const time = wholeSeconds(timeoutSeconds, 'stop timeout');
  return ['docker', 'stop', '--time', String(time), ...containerIds(ids)];
}

/**
 * Stops IDS (as stopContainers), then at once sends SIGNAL to SIGNALLED: an nginx proxy
 * reloads the moment the old containers have left Docker's DNS, so no request waits on an
 * address that no longer answers. One command, so no round trip runs between the two. The
 * signal goes out whether or not the stop succeeded: the proxy must forget whatever left.
 */
export function stopThenSignal(ids: readonly string[], timeoutSeconds: number, signalled: readonly string[], signal: ContainerSignal): string[] {
  const time = wholeSeconds(timeoutSeconds, 'stop timeout');
  const stop = containerIds(ids);
  const targets = nonEmpty(signalled, 'signalled container list').map((id) => signalContainer(id, signal).at(-1)!);
  return ['sh', '-c', STOP_THEN_SIGNAL, 'sh', String(time), signal, String(targets.length), ...targets, ...stop];
}

// $1 grace, $2 signal, $3 how many to signal; then those ids, then the ids to stop. $p collects
// the signalled ids and is split unquoted on purpose: it only ever holds validated hex ids.
const STOP_THEN_SIGNAL = [
  't=$1; s=$2; m=$3; shift 3; p=; i=0',
  'while [ "$i" -lt "$m" ]; do p="$p $1"; shift; i=$((i+1)); done',
  'docker stop --time "$t" "$@"; rc=$?',
  'docker kill --signal "$s" $p >/dev/null || [ "$rc" -ne 0 ] || rc=1',
  'exit "$rc"',
].join('\n');

/** Starts created (or stopped) containers: exactly these, none other of their service. */
export function startContainers(ids: readonly string[]): string[] {
  return ['docker', 'start', ...containerIds(ids)];
}

/**
 * Turns off Docker's restart policy: a container that crashes from now on stays down, rather
 * than coming back (healthy for a while) into the proxy's rotation and crashing again.
 */
export function disableRestarts(ids: readonly string[]): string[] {
  return ['docker', 'update', '--restart=no', ...containerIds(ids)];
}

/**
 * Removes stopped containers. Deliberately without `-f`: Docker then refuses
 * to remove a running container, so an id mixed up by a bug cannot take down
 * one that is serving. Stop first (stopContainers).
 */
export function removeContainers(ids: readonly string[]): string[] {
  return ['docker', 'rm', ...containerIds(ids)];
}

/**
 * Kills and removes containers, running or not. Only for compensation: new
 * containers that never became healthy and never received traffic.
 */
export function forceRemoveContainers(ids: readonly string[]): string[] {
  return ['docker', 'rm', '--force', ...containerIds(ids)];
}

/** The full state of one or more images (id, tags, digests), as a JSON array. */
export function inspectImages(refs: readonly string[]): string[] {
  return ['docker', 'image', 'inspect', ...imageRefsOrIds(refs)];
}

/** Gives image SOURCE (id or reference) the name TARGET, e.g. to keep a rollback image. */
export function tagImage(source: string, target: string): string[] {
  const from = imageRefOrId(source);
  const to = imageRef(target);
  if (to.includes('@')) throw new InvalidValueError('image reference', to, 'a tag target cannot carry a digest');
  if (isImageId(to)) throw new InvalidValueError('image reference', to, 'a tag target must not read as an image id');
  return ['docker', 'tag', from, to];
}

/** Removes image names (and the images, once unnamed and unused). No `--force`: Docker refuses images in use. */
export function removeImages(refs: readonly string[]): string[] {
  return ['docker', 'image', 'rm', ...imageRefsOrIds(refs)];
}

/** Runs ARGV inside a running container (see commandArgv for what ARGV may hold). */
export function execInContainer(id: string, argv: readonly string[]): string[] {
  const container = containerId(id);
  return ['docker', 'exec', container, ...commandArgv(argv)];
}

/** Signals a container may be sent (reload, log reopen, graceful stop); never KILL. */
export const ALLOWED_SIGNALS = ['HUP', 'USR1', 'USR2', 'TERM', 'QUIT', 'INT'] as const;
export type ContainerSignal = (typeof ALLOWED_SIGNALS)[number];

/** Sends SIGNAL (from ALLOWED_SIGNALS, without the SIG prefix) to a container's main process. */
export function signalContainer(id: string, signal: ContainerSignal): string[] {
  const container = containerId(id);
  if (typeof signal !== 'string' || !(ALLOWED_SIGNALS as readonly string[]).includes(signal)) {
    throw new InvalidValueError('signal', signal, `one of ${ALLOWED_SIGNALS.join(', ')}`);
  }
  return ['docker', 'kill', '--signal', signal, container];
}

/** Seconds since the epoch, as a whole non-negative number (up to the year 9999). */
function unixTime(value: number, kind: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 253_402_300_799) throw new InvalidValueError(kind, value, 'whole seconds since the epoch');
  return value;
}

/**
 * The project's container lifecycle events that matter to a deploy (start,
 * die, health_status), one JSON object per line. Without `untilUnix` the
 * command streams until it is stopped.
 */
export function dockerEvents(opts: { project: string; sinceUnix?: number; untilUnix?: number }): string[] {
  const argv = [
    'docker',
    'events',
    '--format',
    '{{json .}}',
    '--filter',
    'type=container',
    '--filter',
    `label=com.docker.compose.project=${projectName(opts.project)}`,
    '--filter',
    'event=health_status',
    '--filter',
    'event=die',
    '--filter',
    'event=start',
  ];
  const since = opts.sinceUnix === undefined ? undefined : unixTime(opts.sinceUnix, 'events since');
  const until = opts.untilUnix === undefined ? undefined : unixTime(opts.untilUnix, 'events until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new InvalidValueError('events until', until, `earlier than since (${since})`);
  }
  if (since !== undefined) argv.push('--since', String(since));
  if (until !== undefined) argv.push('--until', String(until));
  return argv;
}

/** Image names:tags matching a reference pattern (e.g. "composure-rollback/shop-*"), one per line. */
export function listImageTags(reference: string): string[] {
  if (!/^[a-z0-9][a-z0-9._/*-]*$/.test(reference)) throw new InvalidValueError('image reference pattern', reference, 'lowercase letters, digits, "._/-" and "*"');
  return ['docker', 'image', 'ls', '--filter', `reference=${reference}`, '--format', '{{.Repository}}:{{.Tag}}'];
}
