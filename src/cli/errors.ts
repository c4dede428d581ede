/** Turning errors into one clear message and an exit code, in one place. */
import { InvalidValueError } from '../commands/validate';
import { ConfigError } from '../config/load';
import { PlanError } from '../plan/order';
import { HostConfigError } from '../transport/from-config';
import { RefNotFoundError } from '../deploy/errors';
import { ExitCode } from './exit-codes';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const INPUT_ERRORS = [ConfigError, InvalidValueError, PlanError, HostConfigError, UsageError, RefNotFoundError];

export function exitCodeFor(err: unknown): number {
  return INPUT_ERRORS.some((cls) => err instanceof cls) ? ExitCode.invalidInput : ExitCode.failed;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name === 'Error' ? 'error' : err.name}: ${err.message}`;
  return `error: ${String(err)}`;
}
