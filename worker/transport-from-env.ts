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
import { hostName, unixUser } from '../src/commands/validate';
import { LocalTransport, transportForHost, type Transport } from '../src/transport';

/** The same host description composure.yml gives, so keys are pinned and read in one place (from-config.ts). */
export function transportFromEnv(env: NodeJS.ProcessEnv = process.env): Transport {
  const kind = env.COMPOSURE_TRANSPORT ?? (env.COMPOSURE_SSH_HOST ? 'ssh' : 'local');
  if (kind === 'local') return new LocalTransport();
  if (kind !== 'ssh') throw new Error(`COMPOSURE_TRANSPORT must be "ssh" or "local", not ${JSON.stringify(kind)}`);
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is required for the ssh transport`);
    return value;
  };
  const host = hostName(required('COMPOSURE_SSH_HOST'));
  const portText = env.COMPOSURE_SSH_PORT ?? '22';
  const port = Number(portText);
  if (!/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535) throw new Error(`COMPOSURE_SSH_PORT is not a port: ${env.COMPOSURE_SSH_PORT}`);
  const knownHostsFile = required('COMPOSURE_SSH_KNOWN_HOSTS');
  const keyFile = required('COMPOSURE_SSH_KEY_FILE');
  return transportForHost(
    { kind: 'ssh', host, port, user: unixUser(env.COMPOSURE_SSH_USER ?? 'deploy'), identity: { file: keyFile }, hostKeys: [], knownHostsFile },
    { baseDir: process.cwd(), env },
  );
}
