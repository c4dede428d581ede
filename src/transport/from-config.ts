/**
 * A transport for a configured host. Secrets are resolved here, on the
 * machine that runs the CLI or worker: the config holds only a reference to
 * the private key (a file, or an environment variable's name).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostConfig, SshHostConfig } from '../config/types';
import { pinnedKeysFor, parsePublicKeyLine, type PinnedKey } from './known-hosts';
import { LocalTransport } from './local';
import { SshTransport } from './ssh';
import type { Transport } from './types';

export class HostConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostConfigError';
  }
}

export interface ResolveOptions {
  /** Relative paths (identity file, known_hosts) are taken from here: the config file's directory. */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
}

function resolvePath(file: string, baseDir: string): string {
  if (file === '~' || file.startsWith('~/')) return path.join(os.homedir(), file.slice(1));
  return path.resolve(baseDir, file);
}

function readOrExplain(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new HostConfigError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function pinnedKeysOf(host: SshHostConfig, options: ResolveOptions): PinnedKey[] {
  const keys = host.hostKeys.map(parsePublicKeyLine);
  const file = host.knownHostsFile === undefined ? undefined : resolvePath(host.knownHostsFile, options.baseDir);
  if (file) keys.push(...pinnedKeysFor(readOrExplain(file, 'known_hosts file'), host.host, host.port));
  if (keys.length === 0) {
    const where = file ? ` (${file} has no entry for it)` : '';
    throw new HostConfigError(`no host key is pinned for ${host.host}:${host.port}${where}: add host_key (from ssh-keyscan, checked out of band) or a known_hosts entry`);
  }
  return keys;
}

export function privateKeyOf(host: SshHostConfig, options: ResolveOptions): string {
  const env = options.env ?? process.env;
  if ('env' in host.identity) {
    const value = env[host.identity.env];
    if (!value) throw new HostConfigError(`the SSH identity for ${host.host} is read from $${host.identity.env}, which is not set`);
    return value;
  }
  return readOrExplain(resolvePath(host.identity.file, options.baseDir), 'SSH identity file');
}

export function transportForHost(host: HostConfig, options: ResolveOptions): Transport {
  if (host.kind === 'local') return new LocalTransport();
  return new SshTransport({
    host: host.host,
    port: host.port,
    username: host.user,
    privateKey: privateKeyOf(host, options),
    pinnedKeys: pinnedKeysOf(host, options),
  });
}
