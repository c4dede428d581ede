/**
 * Typed transport errors. Temporal turns a thrown error into a failure whose
 * type is the error's `name`, so retry policies list these names to decide what
 * is worth retrying: a dropped connection is, a wrong host key is not.
 */

export class TransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The host presented a key that is not the pinned one. Never retried. */
export class HostKeyVerificationError extends TransportError {
  constructor(
    readonly host: string,
    readonly presentedFingerprint: string,
    readonly pinnedFingerprints: readonly string[],
  ) {
    super(
      `host key verification failed for ${host}: it presented ${presentedFingerprint}, ` +
        `pinned ${pinnedFingerprints.length ? pinnedFingerprints.join(', ') : '(no key for this host)'}`,
    );
  }
}

/** Could not connect or the connection dropped. Retryable. */
export class ConnectionError extends TransportError {}

/** The command ran longer than its timeout and was stopped. */
export class CommandTimeoutError extends TransportError {}

/** The command was aborted by its AbortSignal. */
export class CommandAbortedError extends TransportError {}

/**
 * A supervised command's process on the host ended without leaving an exit
 * status (killed from outside, or the host rebooted): whether it took effect
 * is unknown, and a retry would only find the same run. Not retried.
 */
export class RunLostError extends TransportError {}

/** The command exited non-zero (from runChecked). */
export class CommandFailedError extends TransportError {
  constructor(
    readonly argv: readonly string[],
    readonly code: number,
    readonly stderrTail: string,
  ) {
    super(`command failed with exit code ${code}: ${argv.join(' ')}${stderrTail ? `\n${stderrTail}` : ''}`);
  }
}

export const NON_RETRYABLE_TRANSPORT_ERRORS = [HostKeyVerificationError.name] as const;
