/** What every command needs: the config file, one environment of it, and a transport to its host. */
import path from 'node:path';
import { commitSha, gitRef, imageTag } from '../commands/validate';
import { loadConfig } from '../config/load';
import type { EnvironmentConfig, LoadedConfig } from '../config/types';
import { transportForHost, type Transport } from '../transport';
import { UsageError } from './errors';

export const DEFAULT_CONFIG_FILE = 'composure.yml';

export function loadEnvironment(configFile: string, name: string): { config: LoadedConfig; env: EnvironmentConfig } {
  const config = loadConfig(configFile);
  const env = config.environments[name];
  if (!env) {
    const known = Object.keys(config.environments);
    throw new UsageError(`${configFile} has no environment "${name}" (environments: ${known.join(', ') || 'none'})`);
  }
  return { config, env };
}

export function transportFor(configFile: string, env: EnvironmentConfig): Transport {
  return transportForHost(env.host, { baseDir: path.dirname(path.resolve(configFile)) });
}

/** The ref reaches the host's shell: refuse a bad one before connecting anywhere. */
export function checkRef(env: EnvironmentConfig, ref: string | undefined): void {
  if (ref === undefined) return;
  if (env.source.kind === 'image') imageTag(ref);
  else if (/^[0-9a-f]{40}$/.test(ref)) commitSha(ref);
  else gitRef(ref);
}
