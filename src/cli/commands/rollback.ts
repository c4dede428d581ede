/**
 * `composure rollback <env> [--to <release|ref>]`: a zero-downtime deploy of a
 * recorded earlier release. Its commit's images are still in Docker's cache
 * (and tagged composure-rollback/… for the last releases), so the build is a
 * cache hit rather than a rebuild.
 */
import { readFile } from '../../commands/files';
import { chooseRollbackTarget, parseLedger } from '../../release/ledger';
import { loadEnvironment, transportFor } from '../context';
import { UsageError } from '../errors';
import { deployCommand, type DeployOptions } from './deploy';

export async function rollbackCommand(environment: string, options: DeployOptions & { to?: string }): Promise<number> {
  const { env } = loadEnvironment(options.config, environment);
  const transport = transportFor(options.config, env);
  let ledgerText = '';
  try {
    const result = await transport.exec(readFile(`${env.directory}/.composure/releases.jsonl`), { timeoutMs: 30_000 });
    ledgerText = result.code === 0 ? result.stdout : '';
  } finally {
    await transport.close();
  }
  let target;
  try {
    target = chooseRollbackTarget(parseLedger(ledgerText), options.to);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const ref = target.kind === 'release' ? target.release.commit! : target.ref;
  if (!options.json) {
    console.log(target.kind === 'release' ? `Rolling back to release ${target.release.deployId} (${target.release.ref}, ${ref.slice(0, 12)}, ${target.release.at})` : `Rolling back to ref ${ref}`);
  }
  return deployCommand(environment, { ...options, ref });
}
