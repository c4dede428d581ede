import { CommandFailedError } from './errors';
import type { ExecOptions, ExecResult, Transport } from './types';

export * from './types';
export * from './errors';
export { SshTransport, type SshTarget } from './ssh';
export { LocalTransport } from './local';
export { pinnedKeysFor, parsePublicKeyLine, fingerprint, knownHostsName, type PinnedKey } from './known-hosts';

/** Run argv and throw CommandFailedError unless it exits 0. */
export async function runChecked(transport: Transport, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
  const result = await transport.exec(argv, options);
  if (result.code !== 0) throw new CommandFailedError(argv, result.code, result.stderr.slice(-2000).trim());
  return result;
}
export { transportForHost, HostConfigError, type ResolveOptions } from './from-config';
export { TransportPool } from './pool';
