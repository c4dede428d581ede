/**
 * The host's deploy lock: one deploy per project directory at a time.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { makeDirectory, readFile, removeTree, writeFile } from '../src/commands/files';
import { LockHeldError } from '../src/deploy/errors';
import type { DeployTarget } from '../src/deploy/types';
import { hostOf, type Host, type TransportFor } from './host';

export interface LockHolder {
  deployId: string;
  workflowId: string;
  runId: string;
  ref: string;
  startedAt: string;
}

const stateDir = (target: DeployTarget) => `${target.directory}/.composure`;
const lockDir = (target: DeployTarget) => `${stateDir(target)}/lock`;

async function readHolder(host: Host, target: DeployTarget): Promise<LockHolder | undefined> {
  const result = await host.exec(readFile(`${lockDir(target)}/holder.json`));
  if (result.code !== 0) return undefined;
  try {
    return JSON.parse(result.stdout) as LockHolder;
  } catch {
    return undefined;
  }
}

export function createLockActivities(transportFor: TransportFor) {
  return {
    /**
     * Takes the host's deploy lock: a directory other tools can see
     * (`.composure/lock/holder.json`). A lock whose holder run has ended is
     * stale and is taken over, so a lock never outlives its run.
     */
    async acquireLock(target: DeployTarget, holder: LockHolder): Promise<void> {
      const host = hostOf(transportFor, target);
      await host.run(makeDirectory(stateDir(target), { parents: true }));
      for (let attempt = 0; attempt < 2; attempt++) {
        const made = await host.exec(makeDirectory(lockDir(target)));
        if (made.code === 0) {
          await host.run(writeFile(`${lockDir(target)}/holder.json`, JSON.stringify(holder)));
          return;
        }
        const current = await readHolder(host, target);
        if (current?.deployId === holder.deployId) return; // our own lock, from an earlier attempt
        if (current) {
          const description = await Context.current()
            .client.workflow.getHandle(current.workflowId, current.runId)
            .describe()
            .catch((err: unknown) => {
              // Only a holder Temporal does not know is stale; any other error (Temporal
              // unreachable) must not let a second deploy steal a live lock: retry later.
              if (err instanceof WorkflowNotFoundError) return undefined;
              throw err;
            });
          if (description?.status.name === 'RUNNING') {
            throw new LockHeldError(`${target.directory} is locked by deploy ${current.deployId} (${current.workflowId}, ref ${current.ref}, since ${current.startedAt})`);
          }
        }
        // The holder's run has ended (or left no record): the lock is stale.
        await host.run(removeTree(lockDir(target)));
      }
      throw new LockHeldError(`could not take the lock in ${lockDir(target)}`);
    },

    async releaseLock(target: DeployTarget, deployId: string): Promise<void> {
      const host = hostOf(transportFor, target);
      const current = await readHolder(host, target);
      if (!current || current.deployId === deployId) await host.run(removeTree(lockDir(target)));
    },
  };
}
