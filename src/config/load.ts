/**
 * Loads composure.yml into one EnvironmentConfig per environment. Every
 * problem is reported with file:line:column and the setting's path, all at
 * once, so a user fixes the file in one pass rather than one error per run.
 *
 * Merging (environment over top level), kept simple on purpose:
 * - every setting is replaced as a whole (`health: {…}` in an environment
 *   replaces the top-level `health` block; it is not merged key by key);
 * - except `services`, merged per service, and within a service per key
 *   (an environment's `server: { drain: 1s }` keeps the top-level strategy);
 * - and `hooks`, where each list (`pre_deploy`, `post_deploy`) is replaced
 *   separately.
 * Then DEFAULTS fill what neither level set; directory, host, project_name
 * and source have no default and must be set at one of the two levels.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { compact, composureSchema, DEFAULTS, type Settings } from './schema';
import type { EnvironmentConfig, LoadedConfig, ServiceOverride } from './types';

/** One problem, at a 1-based line and column. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** The setting, e.g. "environments.production.host.ssh.port"; empty for a YAML syntax error. */
  path: string;
  message: string;
}

/** All the problems of a file, in file order; the message has one line per issue. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    super(sorted.map(formatIssue).join('\n'));
    this.issues = sorted;
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

const SECRETS_MESSAGE =
  'secrets are referenced, not written: keep the private key in a file (identity: { file: ~/.ssh/key }) ' +
  'or an environment variable (identity: { env: COMPOSURE_SSH_KEY }), never in composure.yml';
// A PEM private key, or the base64 of OpenSSH's "openssh-key-v1" magic (a key pasted without its armour).
const PRIVATE_KEY_TEXT = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY|b3BlbnNzaC1rZXktdjE/;
const SECRET_KEY_NAME = /^(private_?key|password|passphrase|secret|token|api_?key)$/i;

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // A missing or unreadable file is bad input too, and says so in the same form.
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'no such file (pass --config, or create composure.yml)' : `cannot read it (${code ?? (err as Error).message})`;
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message }]);
  }
  return parseConfig(text, file);
}

/** Parses and resolves composure.yml text; `file` is only used in messages. Throws ConfigError. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: Path, message: string): ConfigIssue => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path: formatPath(path), message };
  };

  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => at(e.pos[0], [], e.message)));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }); // throws on an alias bomb
  } catch (err) {
    throw new ConfigError([at(0, [], (err as Error).message)]);
  }

  // Secrets first: their message replaces whatever the schema would say about the same setting.
  const secrets = findSecrets(doc);
  const secretPaths = new Set(secrets.map((s) => formatPath(s.path)));
  const issues = secrets.map((s) => at(s.offset, s.path, SECRETS_MESSAGE));

  const parsed = composureSchema.safeParse(data, { error: friendlyMessage });
  if (!parsed.success) {
    for (const f of parsed.error.issues.flatMap((i) => flatten(i, []))) {
      if (secretPaths.has(formatPath(f.path))) continue;
      const missing = !f.onKey && valueAt(data, f.path) === undefined;
      issues.push(at(locate(doc, f.path, f.onKey), f.path, missing ? 'is required' : f.message));
    }
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const { environments, ...top } = parsed.data;
  const resolved: Record<string, EnvironmentConfig> = {};
  for (const [name, env] of Object.entries(environments)) {
    const envPath = ['environments', name];
    const result = resolveEnvironment(name, top, env);
    if (Array.isArray(result)) {
      const offset = locate(doc, envPath, false);
      for (const key of result) issues.push(at(offset, [...envPath, key], `is required: set ${key} at the top level or in environments.${name}`));
    } else {
      resolved[name] = result;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { file, environments: resolved };
}

const REQUIRED = ['directory', 'host', 'project_name', 'source'] as const;

/** The merged environment, or the required settings it lacks. */
function resolveEnvironment(name: string, top: Settings, env: Settings): EnvironmentConfig | string[] {
  const pick = <K extends keyof Settings>(key: K): Settings[K] => (env[key] !== undefined ? env[key] : top[key]);
  const [directory, host, projectName, source] = [pick('directory'), pick('host'), pick('project_name'), pick('source')];
  if (directory === undefined || host === undefined || projectName === undefined || source === undefined) {
    return REQUIRED.filter((key) => pick(key) === undefined);
  }
  const services: Record<string, ServiceOverride> = {};
  for (const level of [top.services ?? {}, env.services ?? {}]) {
    for (const [service, override] of Object.entries(level)) services[service] = { ...services[service], ...override };
  }
  const hooks = { preDeploy: env.hooks?.pre_deploy ?? top.hooks?.pre_deploy ?? [], postDeploy: env.hooks?.post_deploy ?? top.hooks?.post_deploy ?? [] };
  const config: EnvironmentConfig = compact({
    name, host, directory, composeFiles: pick('compose_files') ?? [], projectName, source, order: pick('order'),
    health: pick('health') ?? { timeoutMs: DEFAULTS.healthTimeoutMs },
    proxy: pick('proxy') ?? { switch: { kind: 'none' } },
    drainMs: pick('drain') ?? DEFAULTS.drainMs,
    allowDowntime: pick('allow_downtime') ?? DEFAULTS.allowDowntime,
    services, hooks, retention: pick('retention') ?? { releases: DEFAULTS.releases },
  });
  // Environments share top-level objects; a copy keeps a change to one from leaking into another.
  return structuredClone(config);
}

type Path = PropertyKey[];
/** A schema issue reduced to one place: `onKey` when the key itself is wrong (unknown, invalid name). */
type Flat = { path: Path; message: string; onKey: boolean };

function flatten(issue: z.core.$ZodIssue, base: Path): Flat[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'invalid_union': {
      // Keep the options the value got into (not refused outright for its type); if exactly one
      // did, its issues are the precise ones (e.g. a bad port inside `host: { ssh }`).
      const entered = issue.errors.filter((errs) => !errs.every((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value')));
      const [only] = entered;
      if (entered.length === 1 && only) return only.flatMap((e) => flatten(e, path));
      return [{ path, message: issue.message, onKey: false }];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(path, key), onKey: true }));
    case 'invalid_key':
      return [{ path, message: issue.issues[0]?.message ?? issue.message, onKey: true }];
    default:
      return [{ path, message: issue.message, onKey: false }];
  }
}

const EXPECTED: Record<string, string> = { string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false', object: 'a mapping', record: 'a mapping', array: 'a list' };

/** Plain-words messages for issues the schema gives no message of its own. */
function friendlyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map((x) => JSON.stringify(x)).join(', ')}`;
  return undefined;
}

interface JsonNode { anyOf?: JsonNode[]; properties?: Record<string, JsonNode>; additionalProperties?: JsonNode | boolean; items?: JsonNode }
let jsonSchema: JsonNode | undefined;

/** "unknown key", with the nearest key allowed in that mapping when it looks like a typo of one. */
function unknownKeyMessage(mapping: Path, key: string): string {
  jsonSchema ??= z.toJSONSchema(composureSchema, { io: 'input' }) as JsonNode;
  const near = keysAt(jsonSchema, mapping).map((k) => ({ k, d: editDistance(k, key) })).sort((a, b) => a.d - b.d)[0];
  return near && near.d <= Math.min(2, key.length - 1) ? `unknown key (did you mean "${near.k}"?)` : 'unknown key';
}

/** The keys the schema allows in the mapping at `path` (in any of its forms). */
function keysAt(node: JsonNode, path: Path): string[] {
  if (node.anyOf) return node.anyOf.flatMap((option) => keysAt(option, path));
  const [head, ...rest] = path;
  if (head === undefined) return Object.keys(node.properties ?? {});
  const next = typeof head === 'number' ? node.items : (node.properties?.[String(head)] ?? node.additionalProperties);
  return typeof next === 'object' ? keysAt(next, rest) : [];
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length] ?? 0;
}

/** Private keys written into the file: a key named like a secret, or key material in any string. */
function findSecrets(doc: Document): Array<{ path: Path; offset: number }> {
  const found: Array<{ path: Path; offset: number }> = [];
  const walk = (node: unknown, path: Path): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        if (SECRET_KEY_NAME.test(key)) found.push({ path: [...path, key], offset: isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0 });
        else walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && PRIVATE_KEY_TEXT.test(node.value)) {
      found.push({ path, offset: node.range?.[0] ?? 0 });
    }
  };
  walk(doc.contents, []);
  return found;
}

/**
 * The offset of the node at `path` (of its key when `onKey`). Where the path
 * ends early (a missing key), the deepest node that exists: the parent mapping.
 */
function locate(doc: Document, path: Path, onKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = 0;
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (!isMap(node) && !isSeq(node)) break;
    offset = node.range?.[0] ?? offset;
    if (isSeq(node)) {
      node = typeof segment === 'number' ? node.items[segment] : undefined;
    } else {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return offset;
      const keyOffset = isScalar(pair.key) ? (pair.key.range?.[0] ?? offset) : offset;
      if (onKey && i === path.length - 1) return keyOffset;
      node = pair.value;
      offset = keyOffset; // `key:` with no value has no node of its own
    }
    if (node === undefined || node === null) return offset;
  }
  return (node as { range?: [number, number, number] } | null)?.range?.[0] ?? offset;
}

function valueAt(data: unknown, path: Path): unknown {
  return path.reduce<unknown>((value, segment) => (typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined), data);
}

function formatPath(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${String(s)}`)).join('');
}
