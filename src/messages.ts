/**
 * Message definitions shared by the client, the CLI and the workflows: task
 * queue, search-attribute keys, signals and queries. One module, so both
 * sides can never disagree on a name.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeployInput, DeployStatus } from './deploy/types';

export const DEFAULT_TASK_QUEUE = 'composure';

/** Search attributes that make runs filterable in the Temporal UI; the rig registers them. */
export const searchAttributes = {
  environment: defineSearchAttributeKey('ComposureEnvironment', SearchAttributeType.KEYWORD),
  ref: defineSearchAttributeKey('ComposureRef', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('ComposureStatus', SearchAttributeType.KEYWORD),
  services: defineSearchAttributeKey('ComposureServices', SearchAttributeType.KEYWORD_LIST),
} as const;

/** Abort a deploy: everything done so far is undone and the previous version keeps serving. */
export const abortSignal = defineSignal<[{ reason: string }]>('abort');

/** The deploy's phase, per-service state, timings and last error. */
export const statusQuery = defineQuery<DeployStatus>('status');

/** One deploy per environment: the workflow id names it. */
export function deployWorkflowId(environment: string): string {
  return `composure-deploy-${environment}`;
}

/** "server: deploy start-first; proxy: keep": the plan in one line, for the memo. */
export function planSummary(input: DeployInput): string {
  return input.plan.services
    .map((s) => `${s.service}: ${s.action}${s.strategy ? ` ${s.strategy}` : ''}`)
    .join('; ');
}

/**
 * What every deploy run carries, however it is started (the client's
 * startDeploy, or a scheduled run's child workflow): search attributes, memo
 * and the UI summary. Deterministic, so workflows may call it.
 */
export function deployStartMetadata(
  input: DeployInput,
  extraMemo: Record<string, string> = {},
): { typedSearchAttributes: SearchAttributePair[]; memo: Record<string, string>; staticSummary: string } {
  return {
    typedSearchAttributes: [
      { key: searchAttributes.environment, value: input.target.environment },
      { key: searchAttributes.ref, value: input.ref },
      { key: searchAttributes.status, value: 'running' },
      { key: searchAttributes.services, value: input.plan.services.filter((s) => s.action === 'deploy').map((s) => s.service) },
    ],
    memo: { plan: planSummary(input), deployId: input.deployId, requestedBy: input.requestedBy, ...extraMemo },
    staticSummary: `deploy ${input.target.environment} to ${input.ref.slice(0, 12)}`,
  };
}
