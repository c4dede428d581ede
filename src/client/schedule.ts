/**
 * Scheduled redeploys as Temporal Schedules: thin functions over
 * `client.schedule`. A schedule starts `scheduledDeployWorkflow`, which plans
 * on the worker at fire time and runs the usual deploy as a child (one per
 * environment: a firing while a deploy runs is skipped).
 *
 * - Ids are `composure-<env>-<name>`, lowercase letters, digits and single
 *   dashes, so they are safe in the UI, in URLs and in the runs' workflow
 *   ids (`composure-scheduled-<env>-<name>-<time>`, the time added by Temporal).
 * - The spec is either a cron expression or an interval (`every`), never both.
 * - Overlap is SKIP by default: a firing while the previous run still goes on
 *   starts nothing.
 * - Missed firings (the Temporal service was down) are made up only within
 *   `catchupWindow` (10 minutes by default), not hours late.
 * - The environment's settings are captured when the schedule is created (they
 *   travel in the action's arguments, without secrets). After changing
 *   composure.yml, delete and create the schedule again.
 */
import { ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleHandle, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction, type ScheduleSpec, type ScheduleSummary } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { commitSha, gitRef, imageTag, InvalidValueError } from '../commands/validate';
import { formatDuration, parseDuration } from '../compose/duration';
import type { EnvironmentConfig } from '../config/types';
import { searchAttributes } from '../messages';
import type { scheduledDeployWorkflow } from '../../workflows/scheduled-deploy';

export const SCHEDULED_DEPLOY_WORKFLOW = 'scheduledDeployWorkflow';
export const SCHEDULE_ID_PREFIX = 'composure-';

const PART = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const ID = /^composure-[a-z0-9]+(-[a-z0-9]+)+$/;
const MAX_ID_LENGTH = 100;
const PART_RULE = 'lowercase letters, digits and single "-" between them';

/** Checks a schedule id: `composure-<env>-<name>`, lowercase letters, digits and "-". Returns it. */
export function validateScheduleId(scheduleId: string): string {
  if (typeof scheduleId !== 'string') throw new InvalidValueError('schedule id', scheduleId, 'must be a string');
  if (scheduleId.length > MAX_ID_LENGTH) throw new InvalidValueError('schedule id', scheduleId, `longer than ${MAX_ID_LENGTH} characters`);
  if (!ID.test(scheduleId)) throw new InvalidValueError('schedule id', scheduleId, `must be composure-<environment>-<name>, ${PART_RULE}`);
  return scheduleId;
}

/** The schedule id for an environment and a name, e.g. ("prod", "nightly") -> "composure-prod-nightly". */
export function deployScheduleId(environment: string, name: string): string {
  if (!PART.test(environment)) {
    throw new InvalidValueError('environment name', environment, `cannot be part of a schedule id: it needs ${PART_RULE}`);
  }
  if (!PART.test(name)) throw new InvalidValueError('schedule name', name, PART_RULE);
  return validateScheduleId(`${SCHEDULE_ID_PREFIX}${environment}-${name}`);
}

/** The schedule's name within its environment: "composure-prod-nightly" of "prod" -> "nightly". */
export function scheduleNameOf(scheduleId: string, environment: string): string {
  validateScheduleId(scheduleId);
  const prefix = `${SCHEDULE_ID_PREFIX}${environment}-`;
  const name = scheduleId.startsWith(prefix) ? scheduleId.slice(prefix.length) : '';
  if (!PART.test(name)) throw new InvalidValueError('schedule id', scheduleId, `must be ${prefix}<name> for environment "${environment}"`);
  return name;
}

/** The id the schedule gives its runs, before Temporal appends the fire time. */
export function scheduledWorkflowIdPrefix(scheduleId: string, environment: string): string {
  return `composure-scheduled-${environment}-${scheduleNameOf(scheduleId, environment)}`;
}

export interface DeployScheduleTiming {
  /** A cron expression (5 to 7 fields, or @daily and friends), in UTC unless it starts with CRON_TZ=. */
  cron?: string;
  /** An interval in whole seconds or more: "30s", "15m", "1h30m", "24h". */
  every?: string;
}

/** The schedule's spec, from exactly one of cron and every; InvalidValueError otherwise. */
export function deployScheduleSpec(timing: DeployScheduleTiming): ScheduleSpec {
  const { cron, every } = timing;
  if ((cron === undefined) === (every === undefined)) {
    throw new InvalidValueError('schedule', { cron, every }, 'give exactly one of cron (e.g. "0 3 * * *") or every (e.g. "6h")');
  }
  if (cron !== undefined) {
    const text = cron.trim();
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(cron)) throw new InvalidValueError('cron expression', cron, 'contains a control character');
    const fields = text.replace(/^(CRON_TZ|TZ)=\S+\s+/, '').replace(/\s*#.*$/, '').split(/\s+/).filter(Boolean);
    const shorthand = fields.length >= 1 && fields[0]!.startsWith('@');
    if (!(shorthand ? fields.length <= 2 : fields.length >= 5 && fields.length <= 7)) {
      throw new InvalidValueError('cron expression', cron, 'needs 5 to 7 fields (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly');
    }
    // The Temporal service checks each field when the schedule is created.
    return { cronExpressions: [text] };
  }
  let everyMs: number;
  try {
    everyMs = parseDuration(every!);
  } catch (err) {
    throw new InvalidValueError('interval', every, (err as Error).message);
  }
  if (everyMs < 1000 || everyMs % 1000 !== 0) throw new InvalidValueError('interval', every, 'must be whole seconds, at least 1s (e.g. 30s, 15m, 6h)');
  return { intervals: [{ every: everyMs }] };
}

/** The spec in words, as stored in the schedule's memo: "every 6h" or "cron 0 3 * * *". */
export function describeTiming(timing: DeployScheduleTiming): string {
  const spec = deployScheduleSpec(timing);
  const every = spec.intervals?.[0]?.every;
  return every !== undefined ? `every ${formatDuration(Number(every))}` : `cron ${spec.cronExpressions![0]!}`;
}

/** A ref the schedule will deploy, checked like `composure plan --ref` before it is stored. */
export function validateScheduleRef(env: EnvironmentConfig, ref: string | undefined): void {
  if (ref === undefined) {
    if (env.source.kind === 'image') throw new InvalidValueError('ref', ref, `environment ${env.name} deploys images: a schedule needs the tag to deploy (ref)`);
    return;
  }
  if (env.source.kind === 'image') imageTag(ref);
  else if (/^[0-9a-f]{40}$/.test(ref)) commitSha(ref);
  else gitRef(ref);
}

export interface CreateDeployScheduleOptions extends DeployScheduleTiming {
  /** `composure-<env>-<name>`; see deployScheduleId. */
  scheduleId: string;
  env: EnvironmentConfig;
  /** Branch, tag, SHA or image tag; omitted: the configured branch's head at each firing. */
  ref?: string;
  bakeMs: number;
  taskQueue: string;
  /** Create it paused (unpause to start). */
  paused?: boolean;
  note?: string;
  /** Default SKIP: a firing while the previous run goes on starts nothing. */
  overlap?: ScheduleOverlapPolicy;
  /** How late a missed firing may still be taken; default 10 minutes. */
  catchupWindow?: Duration;
}

/** What the schedule's memo holds: enough to list schedules without decoding their arguments. */
export interface DeployScheduleMemo {
  environment: string;
  /** The ref, or "" for the branch head at each firing. */
  ref: string;
  timing: string;
  bakeMs: number;
}

/** The options client.schedule.create receives; pure, so it is unit-tested. */
export function deployScheduleOptions(options: CreateDeployScheduleOptions): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof scheduledDeployWorkflow>> {
  const { env, scheduleId } = options;
  const workflowIdPrefix = scheduledWorkflowIdPrefix(scheduleId, env.name);
  const spec = deployScheduleSpec(options);
  validateScheduleRef(env, options.ref);
  if (!Number.isFinite(options.bakeMs) || options.bakeMs < 0) throw new InvalidValueError('bake', options.bakeMs, 'must be a duration of 0 or more');
  const memo: DeployScheduleMemo = { environment: env.name, ref: options.ref ?? '', timing: describeTiming(options), bakeMs: options.bakeMs };
  const environmentAttribute = [{ key: searchAttributes.environment, value: env.name }];
  return {
    scheduleId,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_DEPLOY_WORKFLOW,
      taskQueue: options.taskQueue,
      workflowId: workflowIdPrefix,
      args: [{ env, ...(options.ref !== undefined ? { ref: options.ref } : {}), bakeMs: options.bakeMs, scheduleId }],
      typedSearchAttributes: environmentAttribute,
      staticSummary: `scheduled deploy of ${env.name} to ${options.ref ?? `the head of ${env.source.kind === 'git' ? env.source.branch : 'its branch'}`} (${scheduleId})`,
    },
    policies: {
      overlap: options.overlap ?? ScheduleOverlapPolicy.SKIP,
      catchupWindow: options.catchupWindow ?? '10m',
    },
    memo: { ...memo },
    typedSearchAttributes: environmentAttribute,
    state: { paused: options.paused ?? false, ...(options.note !== undefined ? { note: options.note } : {}) },
  };
}

/**
 * Creates the schedule; ScheduleAlreadyRunning if the id is taken, and
 * InvalidValueError for a spec the Temporal service refuses (e.g. minute 61).
 */
export async function createDeploySchedule(client: Client, options: CreateDeployScheduleOptions): Promise<ScheduleHandle> {
  const scheduleOptions = deployScheduleOptions(options);
  try {
    return await client.schedule.create(scheduleOptions);
  } catch (err) {
    // The SDK reports the service's "invalid schedule spec" as a TypeError carrying its reason.
    if (err instanceof TypeError) {
      throw new InvalidValueError(options.cron !== undefined ? 'cron expression' : 'interval', options.cron ?? options.every, err.message);
    }
    throw err;
  }
}

function handle(client: Client, scheduleId: string): ScheduleHandle {
  return client.schedule.getHandle(validateScheduleId(scheduleId));
}

/** Composure's deploy schedules (listing is eventually consistent: a new one may take a moment to appear). */
export async function listDeploySchedules(client: Client, filter: { environment?: string } = {}): Promise<ScheduleSummary[]> {
  const found: ScheduleSummary[] = [];
  for await (const summary of client.schedule.list()) {
    if (!ID.test(summary.scheduleId)) continue;
    if (summary.action && summary.action.workflowType !== SCHEDULED_DEPLOY_WORKFLOW) continue;
    if (filter.environment !== undefined && memoOf(summary).environment !== filter.environment) continue;
    found.push(summary);
  }
  return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export function describeDeploySchedule(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  return handle(client, scheduleId).describe();
}

export function pauseDeploySchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  return handle(client, scheduleId).pause(note ?? 'paused with composure');
}

export function unpauseDeploySchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  return handle(client, scheduleId).unpause(note ?? 'unpaused with composure');
}

/**
 * Fires the schedule now, paused or not. Even while a run goes on (the
 * trigger's overlap is ALLOW_ALL): the new run then reports `skipped` if the
 * environment's deploy is running, rather than vanishing silently.
 */
export function triggerDeploySchedule(client: Client, scheduleId: string): Promise<void> {
  return handle(client, scheduleId).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}

/** Deletes the schedule; runs already started go on to their end. */
export function deleteDeploySchedule(client: Client, scheduleId: string): Promise<void> {
  return handle(client, scheduleId).delete();
}

function memoOf(schedule: Pick<ScheduleSummary, 'memo'>): Partial<DeployScheduleMemo> {
  return (schedule.memo ?? {}) as Partial<DeployScheduleMemo>;
}

/** A schedule as the CLI shows it (and prints with --json). */
export interface DeployScheduleView {
  scheduleId: string;
  environment?: string;
  /** Undefined: the branch head at each firing. */
  ref?: string;
  timing?: string;
  bakeMs?: number;
  paused: boolean;
  note?: string;
  nextActionTimes: string[];
  recentActions: Array<{ scheduledAt: string; takenAt: string; workflowId: string; runId: string }>;
  /** Only from describe. */
  runningActions?: Array<{ workflowId: string; runId: string }>;
  numActionsTaken?: number;
  numActionsSkippedOverlap?: number;
  overlap?: string;
  taskQueue?: string;
}

export function scheduleView(schedule: ScheduleSummary | ScheduleDescription): DeployScheduleView {
  const memo = memoOf(schedule);
  const described = 'policies' in schedule ? schedule : undefined;
  const action = described?.action;
  return {
    scheduleId: schedule.scheduleId,
    environment: memo.environment,
    ref: memo.ref ? memo.ref : undefined,
    timing: memo.timing,
    bakeMs: memo.bakeMs,
    paused: schedule.state.paused,
    note: schedule.state.note || undefined,
    nextActionTimes: schedule.info.nextActionTimes.map((t) => t.toISOString()),
    recentActions: schedule.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
    ...(described
      ? {
          runningActions: described.info.runningActions.map((a) => ({ workflowId: a.workflow.workflowId, runId: a.workflow.firstExecutionRunId })),
          numActionsTaken: described.info.numActionsTaken,
          numActionsSkippedOverlap: described.info.numActionsSkippedOverlap,
          overlap: described.policies.overlap,
          taskQueue: action?.taskQueue,
        }
      : {}),
  };
}
