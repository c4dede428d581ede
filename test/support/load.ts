/**
 * HTTP load for measuring downtime during a deploy, and the verdict the rig tests assert.
 * The generator runs in a process of its own (load-process.ts): in the test's process it
 * would share an event loop with the Temporal worker, whose pauses would show up as latency.
 *
 *   const traffic = startLoad({ url, ratePerSecond: 50, durationMs: 180_000 });
 *   await traffic.steady();          // the baseline: latency before anything changes
 *   … deploy …
 *   const report = await traffic.stop();
 *   assertNoDowntime(report);
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { checkLoadOptions, type LoadOptions, type LoadReport } from './load-engine';
import type { FromLoad, ToLoad } from './load-process';

export { STALE_RESET_WINDOW_MS, type LoadOptions, type LoadReport } from './load-engine';

export interface RunningLoad {
  /** Resolves when requests are going out. */
  ready: Promise<void>;
  /** Waits until MS (default 2 s) of load have gone out and marks them as the steady state the deploy is compared with. */
  steady(ms?: number): Promise<void>;
  /** Ends the schedule; in-flight requests finish (each bounded by its timeout). */
  stop(): Promise<LoadReport>;
  /** The report, when the schedule has run out or stop() was called. */
  done: Promise<LoadReport>;
}

export const STEADY_MS = 2_000;

export function startLoad(options: LoadOptions): RunningLoad {
  // Bad options throw here, before a process starts or a request goes out.
  checkLoadOptions(options);
  const child = fork(path.join(__dirname, 'load-process.ts'), [], { cwd: path.resolve(__dirname, '../..'), execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const post = (message: ToLoad): void => {
    if (child.connected) child.send(message);
  };
  let onReady!: () => void;
  let onSteady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<LoadReport>((resolve, reject) => {
    let report: LoadReport | undefined;
    child.on('message', (message: FromLoad) => {
      if (message.kind === 'started') onReady();
      else if (message.kind === 'steady') onSteady?.();
      else if (message.kind === 'report') report = message.report;
      else reject(new Error(`load generator: ${message.message}`));
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (report ? resolve(report) : reject(new Error(`load generator exited (${signal ?? code}) without a report`))));
  });
  post({ kind: 'start', options });
  return {
    ready,
    done,
    async steady(ms = STEADY_MS) {
      await ready;
      const marked = new Promise<void>((resolve) => (onSteady = resolve));
      post({ kind: 'steady', ms });
      await marked;
    },
    stop() {
      post({ kind: 'stop' });
      return done;
    },
  };
}

export function runLoad(options: LoadOptions): Promise<LoadReport> {
  return startLoad(options).done;
}

/**
 * How much the deploy's window may be slower than the steady state before it counts as a
 * stall: a user notices a second; the margins absorb a build competing for the CPU.
 */
export const STALL_BOUNDS = { p99Ms: 500, maxMs: 1_500 } as const;

/**
 * Zero downtime, as the README claims it: no failed request, no resend beyond `resends`
 * (Traefik: none; nginx's reload closes idle keep-alive sockets, which a client resends), and
 * p99 and max latency during the deploy within STALL_BOUNDS of the steady state measured just
 * before it (so a multi-second stall under the 5 s timeout is not "zero downtime").
 */
export function assertNoDowntime(report: LoadReport, options: { resends?: number; explain?: (report: LoadReport) => string } = {}): void {
  const problems = downtimeProblems(report, options);
  assert.deepEqual(problems, [], `${formatReport(report)}${options.explain ? `\n${options.explain(report)}` : ''}`);
}

/** The report's failures and slowest requests as timeline entries (see host-evidence formatTimeline). */
export function requestEvents(report: LoadReport): Array<{ at: number; what: string }> {
  return [
    ...report.failedAt.map((f) => ({ at: f.at, what: `request failed: ${f.reason}` })),
    ...report.slowest.map((s) => ({ at: s.at, what: `request took ${s.ms} ms: ${s.path}` })),
  ];
}

/**
 * Resends a deploy may cause behind PROXY. Traefik keeps its client connections across a
 * switch: none. Each nginx reload closes its old workers' idle keep-alive connections, and a
 * request that crosses one on the wire is resent: a deploy reloads two to four times, and at
 * 50 req/s with 1 s requests the load holds 5 to 10 sockets (measured: up to 5 resends).
 */
export function resendsAllowed(proxy: 'traefik' | 'nginx'): number {
  return proxy === 'nginx' ? 10 : 0;
}

export function downtimeProblems(report: LoadReport, { resends = 0 }: { resends?: number } = {}): string[] {
  const problems: string[] = [];
  if (report.failed > 0) problems.push(`${report.failed} of ${report.total} requests failed`);
  if (report.retriedStaleConnections > resends) problems.push(`${report.retriedStaleConnections} requests resent after a reset (at most ${resends} allowed)`);
  const steady = report.steadyLatencyMs;
  const deploy = report.deployLatencyMs;
  if (!steady || !deploy) problems.push('no steady state was measured before the deploy (call steady())');
  else {
    if (deploy.p99 > steady.p99 + STALL_BOUNDS.p99Ms) problems.push(`p99 ${deploy.p99} ms during the deploy against ${steady.p99} ms before it`);
    if (deploy.max > steady.max + STALL_BOUNDS.maxMs) problems.push(`max ${deploy.max} ms during the deploy against ${steady.max} ms before it`);
  }
  return problems;
}

/** Failed requests that started at or after AT (epoch ms): what a step that began then lost. */
export function failedSince(report: LoadReport, at: number): LoadReport['failedAt'] {
  return report.failedAt.filter((f) => f.at >= at);
}

// Docker reports a container's death a little after its process exited and reset its connections.
const DIE_EVENT_LAG_MS = 250;

/**
 * The failed requests that a crash did not hold: of FAILED, those not in flight at any of the
 * crash instants DIEDAT (epoch ms), that is, not started before the container died and failed
 * at or after that moment. What a crash held is the crash's loss; the rest is the deploy's own.
 */
export function notHeldByCrashes(failed: LoadReport['failedAt'], diedAt: number[]): LoadReport['failedAt'] {
  return failed.filter((f) => !diedAt.some((d) => f.at <= d && f.endAt >= d - DIE_EVENT_LAG_MS));
}

export function formatReport(r: LoadReport): string {
  const kv = (o: Record<string, number>): string =>
    Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
  const lat = (l: LoadReport['latencyMs']): string => `p50 ${l.p50}ms p90 ${l.p90}ms p99 ${l.p99}ms max ${l.max}ms`;
  // While two versions serve side by side the timeline flips on every request; show its ends.
  const entries = r.versionTimeline.map((e) => `${e.version}@${Math.round(e.atMs)}ms`);
  const timeline = entries.length > 6 ? `${entries.slice(0, 3).join(' -> ')} -> … (${entries.length - 6} more) -> ${entries.slice(-3).join(' -> ')}` : entries.join(' -> ') || 'none';
  const phases = r.steadyLatencyMs && r.deployLatencyMs ? `steady ${lat(r.steadyLatencyMs)}, during the deploy ${lat(r.deployLatencyMs)}` : lat(r.latencyMs);
  return (
    `${r.total} requests in ${(r.durationMs / 1000).toFixed(1)}s: ${r.ok} ok, ${r.failed} failed (${kv(r.failures)}), ` +
    `${r.retriedStaleConnections} resent after a stale keep-alive reset; ` +
    `longest failure window ${Math.round(r.longestFailureWindowMs)}ms; ` +
    `latency ${phases}; generator lag p99 ${r.schedulingLagMs.p99}ms max ${r.schedulingLagMs.max}ms; ` +
    `versions ${kv(r.versions)}; timeline ${timeline}.`
  );
}
