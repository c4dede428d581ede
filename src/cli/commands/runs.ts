/** `composure status | abort | history`: reading and steering runs through Temporal. */
import { deployWorkflowId, abortSignal, statusQuery, searchAttributes } from '../../messages';
import type { DeployStatus } from '../../deploy/types';
import { connectTemporal, runUrl } from '../connect';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { statusLines } from '../progress';

/** An environment name or a workflow id ("composure-deploy-…"), with an optional run id after a slash. */
function runOf(target: string): { workflowId: string; runId?: string } {
  const [id, runId] = target.split('/');
  if (!id || !/^[A-Za-z0-9._-]+$/.test(id)) throw new UsageError(`not an environment or run: ${JSON.stringify(target)}`);
  return { workflowId: id.startsWith('composure-') ? id : deployWorkflowId(id), runId };
}

export async function statusCommand(target: string, options: { json?: boolean }): Promise<number> {
  const { workflowId, runId } = runOf(target);
  const temporal = await connectTemporal();
  try {
    const handle = temporal.client.workflow.getHandle(workflowId, runId);
    const description = await handle.describe();
    const status: DeployStatus = await handle.query(statusQuery);
    const url = runUrl(temporal.namespace, workflowId, description.runId);
    if (options.json) {
      console.log(JSON.stringify({ workflowId, runId: description.runId, running: description.status.name === 'RUNNING', url, status }, null, 2));
    } else {
      console.log(`${workflowId} (${description.status.name.toLowerCase()}) ${url}`);
      console.log(`deploy ${status.deployId} to ${status.ref}${status.outcome ? `: ${status.outcome}` : ''}`);
      for (const line of statusLines(status)) console.log(line);
    }
    return ExitCode.ok;
  } finally {
    await temporal.close();
  }
}

export async function abortCommand(environment: string, options: { reason?: string }): Promise<number> {
  const { workflowId } = runOf(environment);
  const temporal = await connectTemporal();
  try {
    const handle = temporal.client.workflow.getHandle(workflowId);
    const description = await handle.describe().catch(() => undefined);
    if (description?.status.name !== 'RUNNING') {
      console.error(`no deploy of ${environment} is running`);
      return ExitCode.failed;
    }
    await handle.signal(abortSignal, { reason: options.reason ?? `aborted from the CLI by ${process.env.USER ?? 'someone'}` });
    console.log(`abort sent to ${workflowId} (${description.runId}); it rolls back and ends as "aborted"`);
    return ExitCode.ok;
  } finally {
    await temporal.close();
  }
}

export interface HistoryEntry {
  workflowId: string;
  runId: string;
  environment?: string;
  ref?: string;
  status?: string;
  services?: string[];
  startTime: string;
  closeTime?: string;
  url: string;
}

export async function historyCommand(environment: string, options: { json?: boolean; limit?: string }): Promise<number> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(environment)) throw new UsageError(`not an environment name: ${JSON.stringify(environment)}`);
  const limit = Number(options.limit ?? 20);
  const temporal = await connectTemporal();
  try {
    const entries: HistoryEntry[] = [];
    const query = `ComposureEnvironment = "${environment}" AND WorkflowType = "deployWorkflow"`;
    for await (const run of temporal.client.workflow.list({ query })) {
      const attrs = run.typedSearchAttributes;
      entries.push({
        workflowId: run.workflowId,
        runId: run.runId,
        environment: attrs.get(searchAttributes.environment),
        ref: attrs.get(searchAttributes.ref),
        status: attrs.get(searchAttributes.status),
        services: attrs.get(searchAttributes.services),
        startTime: run.startTime.toISOString(),
        closeTime: run.closeTime?.toISOString(),
        url: runUrl(temporal.namespace, run.workflowId, run.runId),
      });
      if (entries.length >= limit) break;
    }
    if (options.json) console.log(JSON.stringify(entries, null, 2));
    else if (entries.length === 0) console.log(`no deploys of ${environment} yet`);
    else for (const e of entries) console.log(`${e.startTime}  ${(e.status ?? '?').padEnd(19)} ${(e.ref ?? '?').padEnd(20)} ${(e.services ?? []).join(',') || '-'}  ${e.url}`);
    return ExitCode.ok;
  } finally {
    await temporal.close();
  }
}
