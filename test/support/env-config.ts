/** A complete environment, as loadConfig would return it, for unit tests of pure logic: the rig's "shop" stack. */
import type { ComposeService } from '../../src/compose/model';
import type { EnvironmentConfig } from '../../src/config/types';

export function envConfig(overrides: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    name: 'production',
    host: {
      kind: 'ssh',
      host: '127.0.0.1',
      port: 2222,
      user: 'deploy',
      identity: { file: '/k' },
      hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureHostKey'],
    },
    directory: '/home/deploy/apps/shop',
    composeFiles: [],
    projectName: 'shop',
    source: { kind: 'git', remote: '/home/deploy/origins/shop.git', branch: 'main' },
    health: { timeoutMs: 120_000 },
    proxy: { service: 'proxy', switch: { kind: 'traefik' } },
    drainMs: 5_000,
    allowDowntime: false,
    services: {},
    hooks: { preDeploy: [], postDeploy: [] },
    retention: { releases: 5 },
    ...overrides,
  };
}

/** A compose service as the compose view reads it, with Compose's defaults; FIELDS override. */
export function composeService(name: string, fields: Partial<ComposeService> = {}): ComposeService {
  return {
    name,
    dependsOn: [],
    stopGraceMs: 10_000,
    replicas: 1,
    updateConfig: { parallelism: 1, delayMs: 0, monitorMs: 0, failureAction: 'rollback' },
    ports: [],
    volumes: [],
    labels: {},
    ...fields,
  };
}
