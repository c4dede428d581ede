/**
 * `composure deploy <env>`: plan on the host, start the deploy workflow, and
 * with --wait follow it to the end; the exit code tells the outcome.
 */
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { parseDuration } from '../../compose/duration';
import { prepareDeploy } from '../../client/prepare';
import { startDeploy } from '../../client/deploy';
import type { DeployResult } from '../../deploy/types';
import { statusQuery, deployWorkflowId } from '../../messages';
import type { deployWorkflow } from '../../../workflows/deploy/workflow';
import { connectTemporal, runUrl, taskQueue } from '../connect';
import { checkRef, loadEnvironment, transportFor } from '../context';
import { UsageError } from '../errors';
import { ExitCode, exitCodeForOutcome } from '../exit-codes';
import { progressPrinter } from '../progress';

export interface DeployOptions {
  config: string;
  ref?: string;
  wait?: boolean;
  json?: boolean;
  attach?: boolean;
  bake?: string;
}

export async function followDeploy(handle: WorkflowHandle<typeof deployWorkflow>, json: boolean): Promise<number> {
  const emit = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
  const print = progressPrinter((line) => console.log(line));
  let detached = false;
  const onInterrupt = () => {
    detached = true;
  };
  process.once('SIGINT', onInterrupt);
  try {
    let result: DeployResult | undefined;
    const resultPromise = handle.result().then((r) => (result = r));
    resultPromise.catch(() => undefined);
    while (!result && !detached) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (status) {
        if (json) emit({ type: 'progress', status });
        else print(status);
      }
      await Promise.race([resultPromise.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    if (detached) {
      const message = `Detached: the deploy goes on. Follow it: composure status ${handle.workflowId.replace(/^composure-deploy-/, '')}; abort it: composure abort ${handle.workflowId.replace(/^composure-deploy-/, '')}`;
      if (json) emit({ type: 'detached', message });
      else console.error(message);
      return ExitCode.detached;
    }
    const final = result!;
    if (json) emit({ type: 'result', result: final });
    else {
      print(final);
      console.log(`\nResult: ${final.outcome}${final.abortReason ? ` (${final.abortReason})` : ''}${final.onHost ? `\nOn the host now: ${final.onHost}` : ''}`);
      if (final.outcome === 'failed_compensation') {
        const failed = final.undoFailures?.map((f) => f.service).join(', ');
        const environment = final.environment;
        console.log(`${failed ? `Could not be undone: ${failed} (the rest was). ` : ''}The host stays locked: check it, then run composure lock release ${environment} (composure lock status ${environment} shows the lock)`);
      }
    }
    return exitCodeForOutcome(final.outcome);
  } catch (err) {
    // A cancel from Temporal ends the run cancelled; its status still says what happened.
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.outcome) {
      if (json) emit({ type: 'result', result: status });
      else console.log(`Result: ${status.outcome} (${status.abortReason ?? (err as Error).message})`);
      return exitCodeForOutcome(status.outcome);
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

export async function deployCommand(environment: string, options: DeployOptions): Promise<number> {
  const { env } = loadEnvironment(options.config, environment);
  checkRef(env, options.ref);
  let bakeMs = 0;
  if (options.bake !== undefined) {
    try {
      bakeMs = parseDuration(options.bake);
    } catch (err) {
      throw new UsageError(`--bake: ${(err as Error).message}`);
    }
  }
  const transport = transportFor(options.config, env);
  let input;
  try {
    input = await prepareDeploy(transport, env, { ref: options.ref, bakeMs });
  } finally {
    await transport.close();
  }
  const temporal = await connectTemporal();
  try {
    let handle;
    try {
      handle = await startDeploy(temporal.client, input, { taskQueue: taskQueue(), attach: options.attach });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new UsageError(`a deploy of ${environment} is already running (${deployWorkflowId(environment)}): wait for it, abort it (composure abort ${environment}), or pass --attach`);
      }
      throw err;
    }
    const url = runUrl(temporal.namespace, handle.workflowId, handle.firstExecutionRunId);
    if (options.json) console.log(JSON.stringify({ type: 'started', workflowId: handle.workflowId, runId: handle.firstExecutionRunId, deployId: input.deployId, url }));
    else console.log(`Deploy ${input.deployId} of ${environment} to ${input.ref}${input.plan.ref?.commit ? ` (${input.plan.ref.commit.slice(0, 12)})` : ''}\nTemporal UI: ${url}`);
    if (!options.wait) return ExitCode.ok;
    return await followDeploy(handle, options.json ?? false);
  } finally {
    await temporal.close();
  }
}
