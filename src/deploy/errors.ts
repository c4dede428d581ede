/**
 * Typed deploy errors. Temporal reports a thrown error's `name` as the
 * failure type; the retry policies list the terminal ones so they lead
 * straight to compensation instead of being retried.
 */
export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A new container became unhealthy, exited, or did not become healthy in time. */
export class HealthCheckFailedError extends DeployError {}

/** `docker compose build` or `pull` failed: the source or the Dockerfile is at fault, not the network. */
export class BuildFailedError extends DeployError {}

/** Another deploy holds the host's lock and is still running. */
export class LockHeldError extends DeployError {}

/** The target ref names no commit. */
export class RefNotFoundError extends DeployError {}

/** A pre- or post-deploy hook exited non-zero. A migration is not retried blindly. */
export class HookFailedError extends DeployError {}

/** The proxy did not take the new containers in time. */
export class TrafficSwitchError extends DeployError {}

/** Errors no retry can fix; a deploy meeting one compensates at once. */
export const NON_RETRYABLE_DEPLOY_ERRORS = [
  'HealthCheckFailedError',
  'BuildFailedError',
  'LockHeldError',
  'RefNotFoundError',
  'HookFailedError',
  'DirtyCheckoutError',
  'InvalidValueError',
  'HostKeyVerificationError',
  'HostConfigError',
  'RunLostError',
];
