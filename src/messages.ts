/**
 * Message definitions shared by the client, the CLI and the workflows: task
 * queue, search-attribute keys, and (as they arrive) signals, queries and
 * updates. One module, so both sides can never disagree on a name.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DEFAULT_TASK_QUEUE = 'composure';

/** Search attributes that make runs filterable in the Temporal UI; the rig registers them. */
export const searchAttributes = {
  environment: defineSearchAttributeKey('ComposureEnvironment', SearchAttributeType.KEYWORD),
  ref: defineSearchAttributeKey('ComposureRef', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('ComposureStatus', SearchAttributeType.KEYWORD),
  services: defineSearchAttributeKey('ComposureServices', SearchAttributeType.KEYWORD_LIST),
} as const;
