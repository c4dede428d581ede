/**
 * Strict grammars for every value that reaches a host's shell or a command's
 * argv. Quoting (quote.ts) keeps a value from being *interpreted* by the shell;
 * these keep a value from being *misread* by the program it is passed to (a
 * ref that starts with `-` is an option to git, `..` in a path escapes the
 * project). Config validation and the command builders both call them, so bad
 * input is refused before anything runs.
 */

/** The value as JSON (escaping newlines and control characters); never throws, even for a BigInt or a cycle. */
function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return `(a ${typeof value})`;
  }
}

export class InvalidValueError extends Error {
  constructor(
    readonly kind: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid ${kind} ${show(value)}: ${reason}`);
    this.name = 'InvalidValueError';
  }
}

type Check = (value: string) => string | undefined; // a reason, or undefined when fine

function validator(kind: string, ...checks: Check[]) {
  return (value: unknown): string => {
    if (typeof value !== 'string') throw new InvalidValueError(kind, value, 'must be a string');
    // Control characters (newline, NUL, ESC, …) are never part of a valid value.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidValueError(kind, value, 'contains a control character');
    for (const check of checks) {
      const reason = check(value);
      if (reason) throw new InvalidValueError(kind, value, reason);
    }
    return value;
  };
}

const pattern = (re: RegExp, describe: string): Check => (v) => (re.test(v) ? undefined : describe);
const maxLength = (n: number): Check => (v) => (v.length <= n ? undefined : `longer than ${n} characters`);
const notEmpty: Check = (v) => (v.length > 0 ? undefined : 'is empty');
const noLeadingDash: Check = (v) => (v.startsWith('-') ? 'starts with "-" (would be read as an option)' : undefined);
const noDotDotSegment: Check = (v) => (v.split('/').includes('..') ? 'has a ".." segment' : undefined);

/** A Compose service name (the Compose spec's own grammar). */
export const serviceName = validator(
  'service name',
  notEmpty,
  maxLength(63),
  pattern(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only, starting with a letter or digit'),
);

/** A Compose project name (lowercase, as Compose requires). */
export const projectName = validator(
  'project name',
  notEmpty,
  maxLength(63),
  pattern(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "_" and "-" only, starting with a letter or digit'),
);

/**
 * A git ref or commit as a user names it: a branch, tag or SHA. Follows
 * git-check-ref-format and refuses what git would read as an option or a
 * revision expression (`..`, `@{`, `^`, `~`, `:`).
 */
export const gitRef = validator(
  'git ref',
  notEmpty,
  maxLength(200),
  noLeadingDash,
  pattern(/^[A-Za-z0-9._/-]+$/, 'letters, digits, ".", "_", "/" and "-" only'),
  (v) => (v.includes('..') ? 'contains ".."' : undefined),
  (v) => (v.includes('//') ? 'contains "//"' : undefined),
  (v) => (/(^|\/)\./.test(v) ? 'a component starts with "."' : undefined),
  (v) => (/(\/|\.)$/.test(v) || v.startsWith('/') ? 'starts with "/" or ends with "/" or "."' : undefined),
  (v) => (/\.lock(\/|$)/.test(v) ? 'a component ends with ".lock"' : undefined),
  (v) => (v === '@' || v === 'HEAD' ? 'names no branch, tag or commit' : undefined),
);

/** A full commit SHA as `git rev-parse` prints it. */
export const commitSha = validator('commit', pattern(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a full 40- or 64-digit lowercase hex SHA'));

/** A git remote: a configured remote's name, or a URL (https, ssh, git, file, or scp-like user@host:path). */
export const gitRemote = validator(
  'git remote',
  notEmpty,
  maxLength(500),
  noLeadingDash,
  (v) =>
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) ||
    /^(https?|ssh|git|file):\/\/[A-Za-z0-9._~:/@%+-]+$/.test(v) ||
    /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$/.test(v)
      ? undefined
      : 'a remote name (e.g. origin) or a URL',
  (v) => (/(^|[/:])\.\.?(\/|$)/.test(v) && !v.startsWith('file://') ? 'has a "." or ".." segment' : undefined),
  // ssh would read a host such as "-oProxyCommand=…" as an option (git blocks it
  // only since 2.14.1); "%" could spell the "-" in a URL, which git decodes.
  (v) => (/(:\/\/|@)[-%]/.test(v) ? 'a user or host starts with "-" or "%"' : undefined),
);

/** An absolute path on the host, such as the project directory. */
export const absolutePath = validator(
  'absolute path',
  maxLength(1024),
  pattern(/^\/[A-Za-z0-9._@+/-]*$/, 'an absolute path of letters, digits and "._@+/-"'),
  noDotDotSegment,
);

/** A path relative to the project directory, such as a compose file. */
export const relativePath = validator(
  'relative path',
  notEmpty,
  maxLength(1024),
  noLeadingDash,
  pattern(/^[A-Za-z0-9._@+][A-Za-z0-9._@+/-]*$/, 'a relative path of letters, digits and "._@+/-"'),
  noDotDotSegment,
);

/** A Docker container id (full or short hex). */
export const containerId = validator('container id', pattern(/^[0-9a-f]{12,64}$/, '12 to 64 lowercase hex digits'));

/** A Docker image id (sha256:… or bare hex). */
export const imageId = validator('image id', pattern(/^(sha256:)?[0-9a-f]{12,64}$/, 'sha256: followed by hex digits'));

/** An image reference: [registry[:port]/]name[:tag][@digest], lowercase name. */
export const imageRef = validator(
  'image reference',
  notEmpty,
  maxLength(255),
  noLeadingDash,
  pattern(
    /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
    'a lowercase image name with an optional :tag and @sha256 digest',
  ),
);

/** An image tag alone. */
export const imageTag = validator('image tag', pattern(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, "_", "." and "-", at most 128'));

/** An environment variable name. */
export const envVarName = validator('environment variable name', pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and "_", not starting with a digit'));

/** A host name or IP address for SSH. */
export const hostName = validator(
  'host name',
  notEmpty,
  maxLength(253),
  noLeadingDash,
  (v) =>
    /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(v) || /^[0-9a-fA-F:.]+$/.test(v) ? undefined : 'a DNS name or an IP address',
);

/** A Unix user name. */
export const unixUser = validator('user name', maxLength(32), pattern(/^[a-z_][a-z0-9_-]*\$?$/, 'a Unix user name (lowercase, digits, "_", "-")'));

/** A label key=value filter value for `docker ps --filter label=…`. */
export const labelValue = validator('label value', maxLength(255), pattern(/^[A-Za-z0-9_.:/@+-]*$/, 'letters, digits and "_.:/@+-" only'));

/** Seconds as a whole, non-negative number (stop timeouts, drain). */
export function wholeSeconds(value: number, kind = 'seconds'): number {
  if (!Number.isInteger(value) || value < 0 || value > 86_400) throw new InvalidValueError(kind, value, 'a whole number of seconds from 0 to 86400');
  return value;
}

/** A replica count. */
export function replicaCount(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 1000) throw new InvalidValueError('replica count', value, 'a whole number from 0 to 1000');
  return value;
}
