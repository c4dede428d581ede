/**
 * How long steps may take, shared by the activities (which stop a command at
 * its timeout), the workflow (whose start-to-close timeouts must leave room
 * for it) and config validation (which refuses a setting no timeout fits).
 */

/** Every activity heartbeats each second on a timer; only a dead worker (or a lost link to Temporal) misses this. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;

/** On top of a step's configured wait: its own round trips to the host, and a stop (TERM, then KILL). */
export const STEP_MARGIN_MS = 2 * 60_000;

/** `docker compose build` / `pull` is stopped after this long. */
export const BUILD_TIMEOUT_MS = 60 * 60_000;

/** Upper bounds of the settings whose length sizes a step's timeout. */
export const MAX_HEALTH_TIMEOUT_MS = 60 * 60_000;
export const MAX_HOOK_TIMEOUT_MS = 6 * 60 * 60_000;
export const MAX_STOP_GRACE_MS = 60 * 60_000;
export const MAX_BAKE_MS = 24 * 60 * 60_000;

/** The start-to-close timeout that fits a step whose own work may take WORK_MS. */
export function startToCloseFor(workMs: number): number {
  return Math.max(0, Math.ceil(workMs)) + STEP_MARGIN_MS;
}
