/** Running the composure CLI as a user would, from source, and a composure.yml for the rig. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadRig, type Rig } from './rig';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * A composure.yml with one environment per rig stack, reaching the VPS over
 * SSH with the rig's key and pinned host key. `extra` is merged into each
 * environment (e.g. compose_files).
 */
export function writeRigConfig(extra: Record<string, unknown> = {}, rig: Rig = loadRig()): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'composure-config-'));
  const environments: Record<string, unknown> = {};
  for (const [name, stack] of Object.entries(rig.stacks)) {
    environments[name] = {
      project_name: stack.project,
      directory: stack.dir,
      proxy: { service: 'proxy', switch: stack.proxy },
      ...extra,
    };
  }
  const config = {
    source: { git: { remote: 'origin', branch: 'main' } },
    host: {
      ssh: {
        host: rig.ssh.host,
        port: rig.ssh.port,
        user: rig.ssh.username,
        identity: { file: rig.ssh.privateKeyPath },
        known_hosts: rig.ssh.knownHostsPath,
      },
    },
    environments,
  };
  const file = path.join(dir, 'composure.yml');
  writeFileSync(file, stringify(config));
  return { dir, file };
}
