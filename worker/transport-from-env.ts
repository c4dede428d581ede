/**
 * The worker's reach to the host, from its environment. Secrets (the private
 * key) are read here, on the worker, and never travel through workflow input.
 *
 *   COMPOSURE_TRANSPORT=local            run commands on this machine
 *   COMPOSURE_TRANSPORT=ssh              (default when COMPOSURE_SSH_HOST is set)
 *   COMPOSURE_SSH_HOST, COMPOSURE_SSH_PORT (22), COMPOSURE_SSH_USER (deploy)
 *   COMPOSURE_SSH_KEY_FILE               private key file
 *   COMPOSURE_SSH_KNOWN_HOSTS            known_hosts file holding the pinned host key
 */
import { readFileSync } from 'node:fs';
import { LocalTransport, pinnedKeysFor, SshTransport, type Transport } from '../src/transport';

export function transportFromEnv(env: NodeJS.ProcessEnv = process.env): Transport {
  const kind = env.COMPOSURE_TRANSPORT ?? (env.COMPOSURE_SSH_HOST ? 'ssh' : 'local');
  if (kind === 'local') return new LocalTransport();
  if (kind !== 'ssh') throw new Error(`COMPOSURE_TRANSPORT must be "ssh" or "local", not ${JSON.stringify(kind)}`);
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is required for the ssh transport`);
    return value;
  };
  const host = required('COMPOSURE_SSH_HOST');
  const portText = env.COMPOSURE_SSH_PORT ?? '22';
  const port = Number(portText);
  if (!/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535) throw new Error(`COMPOSURE_SSH_PORT is not a port: ${env.COMPOSURE_SSH_PORT}`);
  const knownHostsFile = required('COMPOSURE_SSH_KNOWN_HOSTS');
  const pinnedKeys = pinnedKeysFor(readFileSync(knownHostsFile, 'utf8'), host, port);
  if (pinnedKeys.length === 0) {
    throw new Error(`${knownHostsFile} pins no key for ${host}:${port}; add the host's key (ssh-keyscan, checked out of band)`);
  }
  return new SshTransport({
    host,
    port,
    username: env.COMPOSURE_SSH_USER ?? 'deploy',
    privateKey: readFileSync(required('COMPOSURE_SSH_KEY_FILE'), 'utf8'),
    pinnedKeys,
  });
}
