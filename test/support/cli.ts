/** Running the composure CLI as a user would, from source, and a composure.yml for the rig. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
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
 * The rig's composure.yml (written by scripts/rig.sh: one environment per
 * stack, over SSH with the pinned host key), copied to a temp dir with
 * `extra` merged into each environment (e.g. compose_files, host: local).
 */
export function writeRigConfig(extra: Record<string, unknown> = {}, rig: Rig = loadRig()): { dir: string; file: string } {
  const config = parse(readFileSync(path.join(rig.rigDir, 'composure.yml'), 'utf8')) as { environments: Record<string, Record<string, unknown>> };
  for (const env of Object.values(config.environments)) Object.assign(env, extra);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'composure-config-'));
  const file = path.join(dir, 'composure.yml');
  writeFileSync(file, stringify(config));
  return { dir, file };
}
