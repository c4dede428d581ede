/**
 * The resolved configuration of one environment: what the user asked for,
 * after defaults and per-environment overrides. Durations are milliseconds.
 * Secrets are never here: only references (an env var's name, a file path)
 * that the worker or CLI resolves where the secret lives.
 */

/** Where the private key comes from; resolved by the worker/CLI, never sent to a workflow. */
export type IdentityRef = { file: string } | { env: string };

export interface SshHostConfig {
  kind: 'ssh';
  host: string;
  port: number;
  user: string;
  identity: IdentityRef;
  /** Pinned host keys as "type base64" lines (from host_key / host_keys). */
  hostKeys: string[];
  /** A known_hosts file holding the pinned key (alternative or addition to hostKeys). */
  knownHostsFile?: string;
}

export interface LocalHostConfig {
  kind: 'local';
}

export type HostConfig = SshHostConfig | LocalHostConfig;

export type SourceConfig =
  /** Build on the VPS from a git checkout in the project directory. */
  | { kind: 'git'; remote: string; branch: string }
  /** Prebuilt images from a registry; the ref is the tag, passed to Compose in this variable. */
  | { kind: 'image'; variable: string };

export interface HttpHealthCheck {
  /** Requested from inside the compose network (by a one-off container), e.g. /health. */
  path: string;
  port: number;
  expectStatus: number;
}

export interface HealthConfig {
  /** How long a new container may take to become healthy. */
  timeoutMs: number;
  /** Optional HTTP check in addition to Docker's own healthcheck. */
  http?: HttpHealthCheck;
}

export type TrafficSwitch =
  /** Traefik's Docker provider routes to healthy containers; Composure waits until it does. */
  | { kind: 'traefik' }
  /** `nginx -s reload` in the proxy container, so upstream names are resolved again. */
  | { kind: 'nginx' }
  /** A command run in the proxy container (argv). */
  | { kind: 'command'; command: string[] }
  /** Nothing to switch (e.g. the service takes no traffic through a proxy). */
  | { kind: 'none' };

export interface ProxyConfig {
  /** The compose service that publishes the host port; stays up unless its own definition changed. */
  service?: string;
  switch: TrafficSwitch;
}

export type Strategy = 'start-first' | 'stop-first';

export interface ServiceOverride {
  strategy?: Strategy;
  /** Allow stop-first (with downtime) when start-first is impossible for this service. */
  allowDowntime?: boolean;
  health?: Partial<HealthConfig>;
  drainMs?: number;
  /** Its writable named volumes may be used by two containers at once. */
  sharedVolumes?: boolean;
  /** Never deploy this service (e.g. a database managed by hand). */
  skip?: boolean;
}

export interface HookConfig {
  /** The compose service whose image runs the command (`docker compose run --rm`). */
  service: string;
  command: string[];
  timeoutMs: number;
}

export interface EnvironmentConfig {
  name: string;
  host: HostConfig;
  /** The project directory on the host. */
  directory: string;
  /** Compose files relative to the directory; empty means Compose's default lookup. */
  composeFiles: string[];
  projectName: string;
  source: SourceConfig;
  /** Deploy order of services; default: from depends_on. */
  order?: string[];
  health: HealthConfig;
  proxy: ProxyConfig;
  drainMs: number;
  /** Allow stop-first with downtime where start-first is impossible (all services). */
  allowDowntime: boolean;
  services: Record<string, ServiceOverride>;
  hooks: { preDeploy: HookConfig[]; postDeploy: HookConfig[] };
  retention: { releases: number };
}

export interface LoadedConfig {
  /** The file it came from, for messages. */
  file: string;
  environments: Record<string, EnvironmentConfig>;
}
