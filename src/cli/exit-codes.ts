/** Exit codes CI scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** Something failed on the way (host unreachable, command failed). */
  failed: 1,
  /** Bad input: config, arguments, a hostile value, or a plan that cannot run as configured. */
  invalidInput: 2,
} as const;
