/**
 * The schema of composure.yml. Top-level settings are defaults; each entry
 * under `environments` may override any of them (load.ts merges and fills the
 * defaults in DEFAULTS). Durations are "500ms", "30s", "5m", "1h", "1m30s" or
 * a number of seconds, and become milliseconds.
 *
 *   project_name: shop                 # compose project name (-p)
 *   directory: /home/deploy/apps/shop  # project directory on the host (absolute)
 *   compose_files: [docker-compose.yml]
 *   source:
 *     git: { remote: origin, branch: main }   # or: image: { variable: TAG }
 *   order: [server, client]            # optional; default from depends_on
 *   proxy:
 *     service: proxy
 *     switch: traefik                  # traefik | nginx | none | { command: [nginx, -s, reload] }
 *   health:
 *     timeout: 60s
 *     http: { path: /health, port: 8080, expect_status: 200 }   # optional
 *   drain: 5s
 *   allow_downtime: false
 *   services:
 *     server: { drain: 10s, strategy: start-first, allow_downtime: false, shared_volumes: false, skip: false, health: { timeout: 30s } }
 *   hooks:
 *     pre_deploy:  [ { service: server, command: [./migrate, up], timeout: 5m } ]
 *     post_deploy: []
 *   retention: { releases: 5 }
 *   environments:
 *     production:
 *       host:
 *         ssh:
 *           host: vps.example.com
 *           port: 22
 *           user: deploy
 *           identity: { file: ~/.ssh/composure }      # or { env: COMPOSURE_SSH_KEY }
 *           host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI…   # or host_keys: [...] or known_hosts: ./known_hosts
 *     staging:
 *       host: local
 *       directory: /srv/shop-staging
 *       drain: 1s
 *
 * Objects are strict, so a typo (`helth:`) is an error rather than a silently
 * ignored setting. Every value that reaches a command is checked with the
 * grammars of commands/validate.ts, so bad input is refused before anything runs.
 * Secrets never appear here: an SSH key is referenced by file or variable name.
 */
import { z } from 'zod';
import * as v from '../commands/validate';
import type { HealthConfig, HookConfig, HostConfig, IdentityRef, ServiceOverride, SourceConfig, TrafficSwitch } from './types';
import { parseDuration as parseComposeDuration } from '../compose/duration';
import { MAX_HEALTH_TIMEOUT_MS, MAX_HOOK_TIMEOUT_MS } from '../deploy/limits';

/** Top-level defaults, applied by load.ts after merging. Defaults inside a block (ssh port, git
 * branch, hook timeout, …) are `.prefault()`s below, so the JSON Schema shows them. */
export const DEFAULTS = { healthTimeoutMs: 120_000, drainMs: 5_000, allowDowntime: false, releases: 5 } as const;

/** A validate.ts grammar as a zod string; a failure becomes an issue carrying the grammar's reason. */
function grammar(check: (value: unknown) => string, kind?: string) {
  return z.string().superRefine((value, ctx) => {
    try {
      check(value);
    } catch (err) {
      if (!(err instanceof v.InvalidValueError)) throw err;
      ctx.addIssue({ code: 'custom', message: `not a valid ${kind ?? err.kind}: ${err.reason}` });
    }
  });
}

/** The object without its undefined properties, so optional settings that are absent stay absent. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as T;
}

function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

// Whole units in descending order; `m(?!s)` keeps "5ms" from reading as 5 minutes.
const DURATION_RE = /^(?=\d)(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_HINT = 'must be a duration such as 500ms, 30s, 5m, 1h or 1m30s, or a number of seconds';
// Nothing in a deploy should wait for more than a day; a bigger value is a mistake (ms vs s).
const MAX_DURATION_MS = 86_400_000;

/**
 * Milliseconds of a duration string or a number of seconds; undefined when it
 * is neither. composure.yml's grammar is stricter than Compose's (whole units,
 * largest first) to catch typos; the arithmetic is shared with the compose view.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'string' && !DURATION_RE.test(value)) return undefined;
  try {
    return parseComposeDuration(value);
  } catch {
    return undefined;
  }
}

const duration = z
  .union([z.string().regex(DURATION_RE, { error: DURATION_HINT }), z.number().nonnegative({ error: DURATION_HINT })], { error: DURATION_HINT })
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms !== undefined && ms <= MAX_DURATION_MS) return ms;
    ctx.issues.push({ code: 'custom', input: value, message: 'must be at most 24h' });
    return z.NEVER;
  });

/**
 * A duration that sizes a step's start-to-close timeout (src/deploy/limits.ts):
 * above the bound, no timeout would fit it, so it is refused here, by field.
 */
function durationAtMost(maxMs: number, bound: string) {
  return duration.refine((ms) => ms <= maxMs, { error: `must be at most ${bound}: the step that waits for it must fit its timeout` });
}
const healthTimeout = durationAtMost(MAX_HEALTH_TIMEOUT_MS, '1h');

const service = grammar(v.serviceName);
const port = wholeNumber(1, 65535);

// NUL and newlines would split or truncate an argument on its way to the host; the rest is quoted.
const argv = z
  .array(z.string().refine((s) => !/[\0\r\n]/.test(s), { error: 'contains a NUL or newline character' }), { error: 'must be a list of strings (argv)' })
  .min(1, { error: 'must be a non-empty list of strings (argv)' })
  .refine((a) => a[0] !== '', { error: 'the program (first element) is empty' });

/** A path on the machine running the worker/CLI (identity file, known_hosts): `~/` allowed, control characters not. */
const localPath = z
  .string()
  .min(1, { error: 'is empty' })
  .max(1024, { error: 'longer than 1024 characters' })
  // eslint-disable-next-line no-control-regex
  .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), { error: 'contains a control character' })
  .refine((p) => !p.startsWith('~') || p.startsWith('~/'), { error: 'only "~/" (your own home) may start a path' });

// The SSH wire format starts with the key type, so a key pasted under the wrong type is caught here.
// eslint-disable-next-line no-control-regex
const HOST_KEY_RE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) ([A-Za-z0-9+/]+={0,2})(?: [^\u0000-\u001f\u007f]*)?$/;
const hostKey = z.string().transform((line, ctx) => {
  const m = HOST_KEY_RE.exec(line.trim());
  const [type, base64] = m ? [m[1] as string, m[2] as string] : ['', ''];
  const blob = Buffer.from(base64, 'base64');
  const embedded = blob.length > 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : '';
  if (m && embedded === type) return `${type} ${base64}`;
  const message = m
    ? `the key data is not a ${type} key`
    : 'must be a public key line "TYPE BASE64 [comment]" with TYPE ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521';
  ctx.issues.push({ code: 'custom', input: line, message });
  return z.NEVER;
});

const IDENTITY_HINT = 'must be { file: PATH } or { env: VARIABLE } (exactly one)';
const identity = z
  .strictObject({ file: localPath.optional(), env: grammar(v.envVarName).optional() }, { error: (i) => (i.code === 'invalid_type' ? IDENTITY_HINT : undefined) })
  .refine((id) => (id.file === undefined) !== (id.env === undefined), { error: IDENTITY_HINT })
  .transform((id): IdentityRef => (id.file !== undefined ? { file: id.file } : { env: id.env ?? '' }));

const ssh = z
  .strictObject({
    host: grammar(v.hostName),
    port: port.prefault(22),
    user: grammar(v.unixUser).prefault('deploy'),
    identity,
    host_key: hostKey.optional(),
    host_keys: z.array(hostKey).optional(),
    known_hosts: localPath.optional(),
  })
  .refine((s) => s.host_key !== undefined || (s.host_keys?.length ?? 0) > 0 || s.known_hosts !== undefined, {
    error: 'no pinned host key: set host_key, host_keys or known_hosts (Composure never trusts a host on first use)',
  });

const host = z
  .union([z.literal('local'), z.strictObject({ ssh })], { error: 'must be "local" or { ssh: { host, identity, host_key, … } }' })
  .transform((h): HostConfig => {
    if (h === 'local') return { kind: 'local' };
    const { host, port, user, identity, host_key, host_keys, known_hosts } = h.ssh;
    const hostKeys = [...(host_key === undefined ? [] : [host_key]), ...(host_keys ?? [])];
    return compact({ kind: 'ssh', host, port, user, identity, hostKeys, knownHostsFile: known_hosts });
  });

const source = z
  .strictObject({
    git: z.strictObject({ remote: grammar(v.gitRemote).prefault('origin'), branch: grammar(v.gitRef).prefault('main') }).optional(),
    image: z.strictObject({ variable: grammar(v.envVarName) }).optional(),
  })
  .refine((s) => (s.git === undefined) !== (s.image === undefined), { error: 'must be { git: { remote, branch } } or { image: { variable } } (exactly one)' })
  .transform((s): SourceConfig => (s.git ? { kind: 'git', ...s.git } : { kind: 'image', variable: s.image?.variable ?? '' }));

// Requested by a one-off container; a plain URL path keeps it from being anything else.
const httpPath = z.string().regex(/^\/[A-Za-z0-9._~/%?=&+:@,-]*$/, { error: 'must be a URL path starting with "/" (letters, digits and "._~/%?=&+:@,-")' });
const http = z
  .strictObject({ path: httpPath, port, expect_status: wholeNumber(100, 599).prefault(200) })
  .transform(({ path, port, expect_status }) => ({ path, port, expectStatus: expect_status }));

/** Health for the whole app: a missing timeout is the default (a service's health is partial instead). */
const health = z
  .strictObject({ timeout: healthTimeout.prefault('120s'), http: http.optional() })
  .transform((h): HealthConfig => compact({ timeoutMs: h.timeout, http: h.http }));
const serviceHealth = z
  .strictObject({ timeout: healthTimeout.optional(), http: http.optional() })
  .transform((h): Partial<HealthConfig> => compact({ timeoutMs: h.timeout, http: h.http }));

const serviceOverride = z
  .strictObject({
    strategy: z.enum(['start-first', 'stop-first']).optional(),
    allow_downtime: z.boolean().optional(),
    health: serviceHealth.optional(),
    drain: duration.optional(),
    shared_volumes: z.boolean().optional(),
    skip: z.boolean().optional(),
  })
  .transform(
    (o): ServiceOverride =>
      compact({ strategy: o.strategy, allowDowntime: o.allow_downtime, health: o.health, drainMs: o.drain, sharedVolumes: o.shared_volumes, skip: o.skip }),
  );

const trafficSwitch = z
  .union([z.enum(['traefik', 'nginx', 'none']), z.strictObject({ command: argv })], { error: 'must be traefik, nginx, none or { command: [...] }' })
  .transform((s): TrafficSwitch => (typeof s === 'string' ? { kind: s } : { kind: 'command', command: s.command }));

const hook = z
  .strictObject({ service, command: argv, timeout: durationAtMost(MAX_HOOK_TIMEOUT_MS, '6h').prefault('10m') })
  .transform(({ service, command, timeout }): HookConfig => ({ service, command, timeoutMs: timeout }));

const uniqueServices = z.array(service).superRefine((names, ctx) => {
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${name}" is listed twice` });
  });
});

/** Every setting, all optional: required ones are checked after an environment is merged over the top level. */
const settings = {
  project_name: grammar(v.projectName).optional().describe('Compose project name (-p), lowercase'),
  directory: grammar(v.absolutePath).optional().describe('The project directory on the host (absolute)'),
  compose_files: z.array(grammar(v.relativePath)).optional().describe('Compose files relative to the directory; default: Compose’s own lookup'),
  host: host.optional().describe('"local", or { ssh: … } with a pinned host key'),
  source: source.optional().describe('Where new versions come from: { git: { remote, branch } } or { image: { variable } }'),
  order: uniqueServices.optional().describe('Deploy order of services; default: from depends_on'),
  proxy: z.strictObject({ service: service.optional(), switch: trafficSwitch }).optional().describe('How traffic moves to new containers; default: switch none'),
  health: health.optional(),
  drain: duration.optional().describe('How long an old container keeps serving after traffic moved; default 5s'),
  allow_downtime: z.boolean().optional().describe('Allow stop-first (with downtime) where start-first is impossible; default false'),
  services: z.record(service, serviceOverride).optional().describe('Per-service overrides, by compose service name'),
  hooks: z.strictObject({ pre_deploy: z.array(hook).optional(), post_deploy: z.array(hook).optional() }).optional(),
  retention: z.strictObject({ releases: wholeNumber(1, 100).prefault(DEFAULTS.releases) }).optional(),
};

export const environmentSchema = z.strictObject(settings);

export const composureSchema = z.strictObject({
  ...settings,
  environments: z
    .record(grammar(v.serviceName, 'environment name'), environmentSchema)
    .refine((envs) => Object.keys(envs).length > 0, { error: 'must define at least one environment' })
    .describe('Deploy targets by name; each may override any top-level setting'),
});

/** One parsed environment entry, or the top level without `environments`. */
export type Settings = z.output<typeof environmentSchema>;
