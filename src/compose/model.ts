/**
 * The compose project as the host sees it: the output of `docker compose
 * config` (JSON from v2, YAML from v1; JSON is YAML, so one parser reads both),
 * reduced to the Compose-spec keys Composure honours before inventing its own:
 * healthcheck, stop_grace_period, deploy.replicas, deploy.update_config,
 * container_name, ports, volumes, depends_on.
 */
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration';

export interface PublishedPort {
  hostIp: string;
  published: string;
  target: number;
}

export interface VolumeMount {
  type: 'volume' | 'bind' | 'tmpfs' | string;
  source: string;
  target: string;
  readOnly: boolean;
}

export interface UpdateConfig {
  /** Compose/Swarm default is stop-first; Composure treats an *unset* order as its own default (start-first). */
  order?: 'start-first' | 'stop-first';
  parallelism: number;
  delayMs: number;
  monitorMs: number;
  failureAction: 'rollback' | 'pause' | 'continue';
}

export interface ComposeService {
  name: string;
  image?: string;
  buildContext?: string;
  /** The Dockerfile's absolute path when a build is declared (it may live outside the context). */
  dockerfile?: string;
  dependsOn: string[];
  /** undefined: not set in compose (the image's HEALTHCHECK may still apply). */
  healthcheck?: { disabled: boolean; test: string[] };
  stopGraceMs: number;
  replicas: number;
  updateConfig: UpdateConfig;
  containerName?: string;
  ports: PublishedPort[];
  volumes: VolumeMount[];
  labels: Record<string, string>;
}

export interface ComposeModel {
  name: string;
  services: Record<string, ComposeService>;
}

const DOCKER_DEFAULT_STOP_GRACE_MS = 10_000;

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

function dependsOn(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  return Object.keys(obj(raw));
}

function ports(raw: unknown): PublishedPort[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((p): PublishedPort[] => {
    if (typeof p === 'string' || typeof p === 'number') {
      // Short syntax (v1 output): [ip:]published:target[/proto] or just target.
      const parts = String(p).split('/')[0]!.split(':');
      if (parts.length < 2) return [];
      const target = Number(parts.at(-1));
      const published = parts.at(-2)!;
      const hostIp = parts.length > 2 ? parts.slice(0, -2).join(':') : '';
      return published ? [{ hostIp, published, target }] : [];
    }
    const o = obj(p);
    const published = str(o.published);
    return published ? [{ hostIp: str(o.host_ip) ?? '', published, target: Number(o.target) }] : [];
  });
}

function volumes(raw: unknown): VolumeMount[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((v): VolumeMount => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = v.split(':');
      // A lone container path ("/data") is an anonymous volume; a host path before the colon is a bind mount.
      const type = target && (source.startsWith('/') || source.startsWith('.')) ? 'bind' : 'volume';
      return { type, source: target ? source : '', target: target || source, readOnly: mode.split(',').includes('ro') };
    }
    const o = obj(v);
    return { type: str(o.type) ?? 'volume', source: str(o.source) ?? '', target: str(o.target) ?? '', readOnly: o.read_only === true };
  });
}

function updateConfig(raw: unknown): UpdateConfig {
  const o = obj(raw);
  const order = str(o.order);
  const failure = str(o.failure_action);
  return {
    order: order === 'start-first' || order === 'stop-first' ? order : undefined,
    // 0 is Swarm's "all at once"; the planner caps it at the replica count.
    parallelism: typeof o.parallelism === 'number' && o.parallelism >= 0 ? o.parallelism || Number.MAX_SAFE_INTEGER : 1,
    delayMs: o.delay !== undefined ? parseDuration(str(o.delay) ?? 0) : 0,
    monitorMs: o.monitor !== undefined ? parseDuration(str(o.monitor) ?? 0) : 0,
    failureAction: failure === 'pause' || failure === 'continue' ? failure : 'rollback',
  };
}

function dockerfilePath(build: unknown): string | undefined {
  const context = typeof build === 'string' ? build : str(obj(build).context);
  if (!context || !context.startsWith('/')) return undefined;
  return path.posix.resolve(context, str(obj(build).dockerfile) ?? 'Dockerfile');
}

function healthcheck(raw: unknown): ComposeService['healthcheck'] {
  if (raw === undefined || raw === null) return undefined;
  const o = obj(raw);
  const test = Array.isArray(o.test) ? o.test.map(String) : typeof o.test === 'string' ? ['CMD-SHELL', o.test] : [];
  return { disabled: o.disable === true || test[0] === 'NONE', test };
}

export function parseComposeConfig(text: string): ComposeModel {
  const doc = obj(parseYaml(text));
  const services: Record<string, ComposeService> = {};
  for (const [name, rawService] of Object.entries(obj(doc.services))) {
    const s = obj(rawService);
    const deploy = obj(s.deploy);
    const build = s.build;
    services[name] = {
      name,
      image: str(s.image),
      buildContext: typeof build === 'string' ? build : str(obj(build).context),
      dockerfile: dockerfilePath(build),
      dependsOn: dependsOn(s.depends_on),
      healthcheck: healthcheck(s.healthcheck),
      stopGraceMs: s.stop_grace_period !== undefined ? parseDuration(str(s.stop_grace_period) ?? 0) : DOCKER_DEFAULT_STOP_GRACE_MS,
      replicas: typeof deploy.replicas === 'number' ? deploy.replicas : typeof s.scale === 'number' ? s.scale : 1,
      updateConfig: updateConfig(deploy.update_config),
      containerName: str(s.container_name),
      ports: ports(s.ports),
      volumes: volumes(s.volumes),
      labels: Object.fromEntries(Object.entries(obj(s.labels)).map(([k, v]) => [k, String(v)])),
    };
  }
  return { name: str(doc.name) ?? '', services };
}
