/**
 * What a deploy workflow receives, reports and returns. No secrets: the host
 * is described by reference (the worker resolves its key), so inputs,
 * results and history can be shown to anyone who can read the Temporal UI.
 */
import type { HookConfig, HostConfig, ProxyConfig, SourceConfig } from '../config/types';
import type { ComposeModel } from '../compose/model';
import type { Plan } from '../plan/types';
import type { RunningService } from '../plan/types';

/** Where and what to deploy: the environment's settings that activities need. */
export interface DeployTarget {
  environment: string;
  host: HostConfig;
  directory: string;
  projectName: string;
  composeFiles: string[];
  source: SourceConfig;
  proxy: ProxyConfig;
  hooks: { preDeploy: HookConfig[]; postDeploy: HookConfig[] };
  retention: { releases: number };
  /** Detected on the host when the deploy was prepared. */
  composeVariant: 'v2' | 'v1';
}

export interface DeployInput {
  deployId: string;
  /** The ref the user asked for (branch, tag, SHA or image tag). */
  ref: string;
  target: DeployTarget;
  /** The plan shown before the deploy (predicted from files); re-made from images after the build. */
  plan: Plan;
  /** New containers must stay healthy this long after the last switch, else everything rolls back. */
  bakeMs: number;
  /** Who asked (CI job, user), for the ledger. */
  requestedBy: string;
}

export type DeployPhase =
  | 'starting'
  | 'locking'
  | 'syncing-source'
  | 'snapshotting'
  | 'building'
  | 'planning'
  | 'pre-deploy-hooks'
  | 'rolling-out'
  | 'baking'
  | 'post-deploy-hooks'
  | 'recording'
  | 'compensating'
  | 'done';

export type ServiceState =
  | 'pending'
  | 'skipped'
  | 'kept'
  | 'starting-new'
  | 'waiting-healthy'
  | 'switching'
  | 'draining'
  | 'stopping-old'
  /** update_config.delay between two batches of a multi-replica service. */
  | 'batch-delay'
  | 'done'
  | 'rolling-back'
  | 'rolled-back'
  /** Its undo failed (status.undoFailures says how); compensation went on with the others. */
  | 'rollback-failed';

export interface ServiceProgress {
  state: ServiceState;
  strategy?: 'start-first' | 'stop-first';
  oldContainers: string[];
  newContainers: string[];
  /** "2/3" while a service with update_config.parallelism < replicas rolls out in batches. */
  batch?: string;
  health?: string;
  reason?: string;
  warnings: string[];
  startedAt?: string;
  finishedAt?: string;
}

export type DeployOutcome = 'succeeded' | 'rolled_back' | 'aborted' | 'failed_compensation';

export interface DeployStatus {
  deployId: string;
  environment: string;
  ref: string;
  commit?: string;
  phase: DeployPhase;
  outcome?: DeployOutcome;
  services: Record<string, ServiceProgress>;
  /** ISO times of phase starts, in order. */
  timeline: Array<{ phase: DeployPhase; at: string }>;
  lastError?: string;
  abortReason?: string;
  /** When compensation could not finish: exactly what runs on the host now. */
  onHost?: string;
  /** When compensation could not finish: every undo step that failed (the others still ran). */
  undoFailures?: UndoFailure[];
}

/** One undo step that failed during compensation. */
export interface UndoFailure {
  /** The compose service, or "(source)" for the checkout or the `.env` tag. */
  service: string;
  step: 'checkout' | 'image-tag' | 'retag' | 'undo';
  error: string;
}

/**
 * The host lock's record, `.composure/lock/holder.json`: the deploy holding
 * it and its run. After a compensation that could not finish, the lock stays
 * held with state `failed_compensation` and the reason, until a person
 * releases it (`composure lock release <env>`).
 */
export interface LockHolder {
  deployId: string;
  workflowId: string;
  runId: string;
  ref: string;
  startedAt: string;
  /** Absent while the deploy runs (records before this field existed say nothing). */
  state?: 'held' | 'failed_compensation';
  reason?: string;
  failedAt?: string;
}

export interface DeployResult extends DeployStatus {
  outcome: DeployOutcome;
}

/** What ran before the deploy, to return to. */
export interface Snapshot {
  compose: ComposeModel;
  running: Record<string, RunningService>;
  /** Per service: the containers and image that served before, and the rollback tag of that image. */
  services: Record<string, { containerIds: string[]; imageId?: string; rollbackTag?: string; imageRef: string }>;
  /**
   * Image source only: the tag variable's value in the project's `.env` before
   * the deploy (null: not set there), restored by a rollback. Only this one
   * value is read into history, never the rest of the file.
   */
  imageTag?: string | null;
}
