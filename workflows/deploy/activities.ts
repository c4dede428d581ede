/**
 * Activity proxies for the deploy, by kind of step. Terminal errors (health,
 * build, lock, bad input) are not retried: they lead to compensation. Waits
 * heartbeat, so a dead worker is noticed within the heartbeat timeout.
 * Compensation retries longer: it must finish.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { NON_RETRYABLE_DEPLOY_ERRORS } from '../../src/deploy/errors';

// Cancellation waits for the activity to stop, so compensation never races a step still running.
const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;

/** Short steps: a few seconds each. */
export const steps = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  cancellationType,
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_DEPLOY_ERRORS },
});

/** Long steps that heartbeat: build, health waits, bake, hooks. */
export const waits = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  // They beat every half second; a worker that died is noticed within this.
  heartbeatTimeout: '10 seconds',
  cancellationType,
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_DEPLOY_ERRORS },
});

/** Compensation: retried patiently; only errors no retry can fix stop it. */
export const undo = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  cancellationType,
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['HostKeyVerificationError', 'InvalidValueError', 'HostConfigError', 'HealthCheckFailedError'],
  },
});
