/**
 * Activity proxies for the deploy, by kind of step. Terminal errors (health,
 * build, lock, bad input) are not retried: they lead to compensation.
 *
 * Every activity heartbeats each second on a timer for as long as it runs
 * (activities/host.ts), so the heartbeat timeout only ever fires for a dead
 * worker, never for a host command that is merely silent. A retry after that
 * does not run the command again: effects are supervised on the host and a
 * retry waits for the run already under way. Start-to-close timeouts are
 * sized from the configured waits (health timeout, grace period, hook
 * timeout, bake), so no setting can outlast the step that carries it.
 */
import { ActivityCancellationType, proxyActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { NON_RETRYABLE_DEPLOY_ERRORS } from '../../src/deploy/errors';
import { BUILD_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS, startToCloseFor } from '../../src/deploy/limits';

// Cancellation waits for the activity to stop, so compensation never races a step still running.
const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;

// About a minute of retries: a restarting sshd or Temporal, or a dropped connection, is ridden out.
const stepRetry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_DEPLOY_ERRORS };

const stepOptions: ActivityOptions = { startToCloseTimeout: '10 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT_MS, cancellationType, retry: stepRetry };

/** Short steps: a few seconds each (scale-ups, switches, snapshots). */
export const steps = proxyActivities<Activities>(stepOptions);

/** Steps whose length is set by the configuration: a health wait, a graceful stop, a hook, a bake. */
export function stepsFor(workMs: number) {
  return proxyActivities<Activities>({ ...stepOptions, startToCloseTimeout: startToCloseFor(workMs) });
}

/** The build (or pull): bounded by its own timeout. */
export const builds = proxyActivities<Activities>({ ...stepOptions, startToCloseTimeout: startToCloseFor(BUILD_TIMEOUT_MS) });

// Compensation: retried patiently; only errors no retry can fix stop it.
const undoOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  cancellationType,
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['HostKeyVerificationError', 'InvalidValueError', 'HostConfigError', 'HealthCheckFailedError', 'RunLostError'],
  },
};

export const undo = proxyActivities<Activities>(undoOptions);

/** Compensation steps whose length is set by the configuration. */
export function undoFor(workMs: number) {
  return proxyActivities<Activities>({ ...undoOptions, startToCloseTimeout: startToCloseFor(workMs) });
}
