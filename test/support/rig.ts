/**
 * The rig as tests see it: rig.json written by scripts/rig.sh, plus helpers to
 * reach its parts. A missing rig is a loud failure, never a skip: the test
 * command brings the rig up first.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Connection, Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { pinnedKeysFor, SshTransport, type PinnedKey, type SshTarget } from '../../src/transport';

/** The git stacks are named after their proxy; `images` deploys registry images by tag (behind Traefik). */
export type StackName = 'traefik' | 'nginx' | 'images' | 'fault-traefik' | 'fault-nginx' | 'plain-traefik' | 'plain-nginx';

export interface RigStack {
  project: string;
  dir: string;
  /** The git origin (git stacks only). */
  origin: string;
  url: string;
  proxy: 'traefik' | 'nginx';
  source: 'git' | 'image';
}

export interface Rig {
  rigDir: string;
  temporal: { address: string; namespace: string; uiUrl: string; cliPath: string; testServerPath: string };
  ssh: { host: string; port: number; username: string; privateKeyPath: string; knownHostsPath: string; hostKeyPath: string };
  /** composeAudit: the log of every Compose invocation on the VPS (written by the rig's Compose plugin wrapper). */
  /** The fault matrix's own Temporal server and sshd (it restarts and stops them; the other tests use the main ones). */
  faults: { temporalAddress: string; sshPort: number };
  docker: { composeVersion: string; temporalImage: string; registry: string; composeAudit?: string };
  stacks: Record<StackName, RigStack>;
}

// Workers in tests log warnings and errors only (no bundler chatter).
Runtime.install({ logger: new DefaultLogger('WARN') });

let cached: Rig | undefined;

export function loadRig(): Rig {
  if (cached) return cached;
  const file = `${process.env.COMPOSURE_RIG_DIR ?? '/var/lib/composure-rig'}/rig.json`;
  try {
    cached = JSON.parse(readFileSync(file, 'utf8')) as Rig;
  } catch (err) {
    throw new Error(`the test rig is not up (${file}: ${(err as Error).message}). Run: bash scripts/rig.sh up`);
  }
  return cached;
}

export function rigPinnedKeys(rig = loadRig()): PinnedKey[] {
  return pinnedKeysFor(readFileSync(rig.ssh.knownHostsPath, 'utf8'), rig.ssh.host, rig.ssh.port);
}

/**
 * The rig's sshd as a transport. `options` may point it elsewhere (e.g. a
 * TCP proxy in front of the sshd: `{ port: proxy.port }`) and set the SSH
 * timings; the pinned keys stay the rig's unless given.
 */
export function rigSshTransport(options: Partial<Omit<SshTarget, 'username' | 'privateKey'>> = {}, rig = loadRig()): SshTransport {
  return new SshTransport({
    host: rig.ssh.host,
    port: rig.ssh.port,
    username: rig.ssh.username,
    privateKey: readFileSync(rig.ssh.privateKeyPath, 'utf8'),
    ...options,
    pinnedKeys: options.pinnedKeys ?? rigPinnedKeys(rig),
  });
}

export async function rigClient(rig = loadRig()): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: rig.temporal.address });
  return { client: new Client({ connection, namespace: rig.temporal.namespace }), close: () => connection.close() };
}

export function rigWorkerConnection(rig = loadRig()): Promise<NativeConnection> {
  return NativeConnection.connect({ address: rig.temporal.address });
}

/** A task queue no other test or worker polls. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/** Runs a shell command as the VPS's `deploy` user (a login shell, as an operator would), returning its trimmed stdout. */
export function deployUser(command: string): string {
  return execFileSync('su', ['-', 'deploy', '-c', command], { encoding: 'utf8' }).trim();
}
