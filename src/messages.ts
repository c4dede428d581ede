/**
 * Message definitions shared by the client, the CLI and the workflows: task
 * queue, search-attribute keys, signals and queries. One module, so both
 * sides can never disagree on a name.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeployStatus } from './deploy/types';

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
