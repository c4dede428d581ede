/** Exit codes CI scripts can rely on. */
import type { DeployOutcome } from '../deploy/types';

export const ExitCode = {
  ok: 0,
  /** Something failed on the way (host unreachable, a compensation that could not finish). */
  failed: 1,
  /** Bad input: config, arguments, a hostile value, or a plan that cannot run as configured. */
  invalidInput: 2,
  /** The deploy failed and was rolled back: the previous version serves. */
  rolledBack: 3,
  /** The deploy was aborted (signal or cancel) and rolled back. */
  aborted: 4,
  /** Ctrl-C while waiting: detached, the deploy goes on. */
  detached: 130,
} as const;

export function exitCodeForOutcome(outcome: DeployOutcome): number {
  switch (outcome) {
    case 'succeeded':
      return ExitCode.ok;
    case 'rolled_back':
      return ExitCode.rolledBack;
    case 'aborted':
      return ExitCode.aborted;
    case 'failed_compensation':
      return ExitCode.failed;
  }
}
