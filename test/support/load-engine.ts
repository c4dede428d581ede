// Bounded, open-loop HTTP load generator for measuring downtime during deployments.
// Open-loop on purpose: a closed-loop client slows down when the service stalls and so
// hides exactly the outage we want to measure. This is the engine; tests use it through
// load.ts, which runs it in a process of its own (load-process.ts) so that a worker or a
// busy test in the test's event loop cannot delay the requests it measures.
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  url: string;
  paths?: string[];
  ratePerSecond: number;
  durationMs: number;
  maxRequests?: number;
  timeoutMs?: number;
  maxInFlight?: number;
  versionHeader?: string;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadReport {
  total: number;
  ok: number;
  failed: number;
  /**
   * Requests resent once on a fresh connection because a reused keep-alive socket was reset
   * before any byte of the response came back and within STALE_RESET_WINDOW_MS of the request
   * going out: what browsers, curl and Go's client do, for a request the server cannot have
   * processed. Any other reset is a failure.
   */
  retriedStaleConnections: number;
  failures: Record<string, number>;
  /** When each failed request started and ended (epoch ms) and why it failed, in start order (at most 1,000). */
  failedAt: Array<{ at: number; endAt: number; reason: string }>;
  longestFailureWindowMs: number;
  /** Every request that went out. */
  latencyMs: Latency;
  /** Requests started before the steady-state mark (see RunningLoad.steady), when one was made. */
  steadyLatencyMs?: Latency;
  /** Requests started after the steady-state mark: the deploy's window. */
  deployLatencyMs?: Latency;
  /** The slowest requests (at most 10): when each started (epoch ms), how long it took, its path. */
  slowest: Array<{ at: number; ms: number; path: string }>;
  /** How late the generator sent requests against their schedule: its own event loop's lag. */
  schedulingLagMs: { p99: number; max: number };
  versions: Record<string, number>;
  versionTimeline: Array<{ atMs: number; version: string }>;
  durationMs: number;
}

export interface RunningLoad {
  /** Marks the end of the steady state once MS of load have been sent (from the first request). */
  steady(ms: number): Promise<void>;
  stop(): Promise<LoadReport>;
  done: Promise<LoadReport>;
}

/**
 * A reset this soon after a request went out on a reused socket is the server closing an idle
 * keep-alive connection as the request crossed it: the request was never processed, so a
 * client may send it again. Later than this, the server may have worked on it.
 */
export const STALE_RESET_WINDOW_MS = 500;

interface Sample {
  path: string;
  startMs: number;
  /** How late it went out against its slot in the schedule. */
  lagMs: number;
  endMs: number;
  ok: boolean;
  reason?: string; // failure key
  version?: string; // only for OK responses
  sent: boolean; // false for 'overload': never hit the wire, so excluded from latency
  retried?: boolean; // resent once after a stale keep-alive socket was reset
}

// Only the version fallback reads the body; cap what we keep so a large page can't bloat memory.
const BODY_KEEP_BYTES = 4096;

// A test harness must never be pointed at a real host by mistake, so refuse anything non-loopback.
function assertLoopback(raw: string): URL {
  const u = new URL(raw);
  if (u.protocol !== 'http:') throw new Error(`load: only http: URLs are supported, got ${u.protocol}`);
  const h = u.hostname;
  const ok = h === 'localhost' || h === '[::1]' || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(h);
  if (!ok) throw new Error(`load: refusing non-loopback host '${h}' (allowed: 127.x.x.x, localhost, [::1])`);
  return u;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  // Nearest-rank: always a latency that was actually observed.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

const round = (n: number): number => Math.round(n * 10) / 10;

/** Throws on options that must not reach the wire; returns the base URL and the paths. */
export function checkLoadOptions(opts: LoadOptions): { base: URL; paths: string[] } {
  const base = assertLoopback(opts.url);
  if (!(opts.ratePerSecond > 0)) throw new Error('load: ratePerSecond must be > 0');
  if (!(opts.durationMs > 0)) throw new Error('load: durationMs must be > 0');
  const paths = opts.paths && opts.paths.length > 0 ? opts.paths : [base.pathname + base.search];
  for (const p of paths) if (!p.startsWith('/')) throw new Error(`load: path must start with '/': ${p}`);
  return { base, paths };
}

/** Runs the load in this process: only load-process.ts calls this (tests call load.ts's startLoad). */
export function startLoadInProcess(opts: LoadOptions): RunningLoad {
  // Validate everything up front so a bad call throws before a single request goes out.
  const { base, paths } = checkLoadOptions(opts);
  const intervalMs = 1000 / opts.ratePerSecond;
  const maxRequests = opts.maxRequests ?? Math.ceil((opts.ratePerSecond * opts.durationMs) / 1000);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxInFlight = opts.maxInFlight ?? 256;
  const versionHeader = (opts.versionHeader ?? 'x-app-version').toLowerCase();

  // Keep-alive like browsers/proxies' upstream clients, so stale pooled sockets across a
  // deploy show up as ECONNRESET just as they would for real users.
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const samples: Sample[] = []; // index = schedule order = start order
  const t0 = performance.now();
  const t0Epoch = Date.now();
  const now = (): number => performance.now() - t0;
  let steadyUntil: number | undefined; // samples before this index are the steady state
  let scheduled = 0;
  let inFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  let resolveDone!: (r: LoadReport) => void;
  const done = new Promise<LoadReport>((res) => (resolveDone = res));

  const scheduleExhausted = (): boolean =>
    stopped || scheduled >= maxRequests || scheduled * intervalMs >= opts.durationMs;

  function maybeFinish(): void {
    if (finished || inFlight > 0 || !scheduleExhausted()) return;
    finished = true;
    if (timer) clearTimeout(timer);
    agent.destroy();
    resolveDone(buildReport(samples, now(), t0Epoch, steadyUntil));
  }

  function fire(i: number): void {
    const startMs = now();
    const sample: Sample = { path: paths[i % paths.length]!, startMs, lagMs: Math.max(0, startMs - i * intervalMs), endMs: startMs, ok: false, sent: false };
    samples[i] = sample;
    if (inFlight >= maxInFlight) {
      // Queueing would turn the open loop into a closed one and grow without bound.
      sample.reason = 'overload';
      return;
    }
    sample.sent = true;
    inFlight++;
    let settled = false;
    const settle = (ok: boolean, reason?: string, version?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      Object.assign(sample, { endMs: now(), ok, reason, version });
      inFlight--;
      maybeFinish();
    };
    let req: http.ClientRequest;
    let sentAt = 0;
    let answered = false; // any byte of a response came back
    const send = (retry: boolean): void => {
      sentAt = now();
      req = http.request({
        // The resend must not take another pooled socket: after an nginx reload several
        // idle keep-alive sockets are stale at once, and the pool would hand back one of them.
        agent: retry ? false : agent,
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port || 80,
        path: paths[i % paths.length],
        method: 'GET',
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A pooled keep-alive socket the server closed just as this request went out
        // (nginx reload, a draining app): browsers, curl and Go's http client retry an
        // idempotent request once on a fresh connection, so this client does too, and
        // counts it. Only when the server cannot have processed it: no byte of a response
        // came back and the reset came at once. Anything else is a failure.
        const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
        const late = now() - sentAt > STALE_RESET_WINDOW_MS;
        if (!retry && req.reusedSocket && reset && !answered && !late && !settled) {
          sample.retried = true;
          send(true);
          return;
        }
        // Which socket failed tells a proxy's reload race from an outage in the report.
        const code = err.code ?? err.message;
        settle(false, retry ? `${code} on resend` : !req.reusedSocket ? `${code} on a fresh connection` : reset && late ? `${code} late on a reused connection` : code);
      });
      req.on('response', onResponse);
      req.end();
    };
    // A wall-clock deadline (not req.setTimeout, which is per-idle-period) keeps stop() bounded
    // even for a server that trickles bytes.
    const deadline = setTimeout(() => {
      settle(false, 'timeout');
      req.destroy();
    }, timeoutMs);
    const onResponse = (res: http.IncomingMessage): void => {
      answered = true;
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const chunks: Buffer[] = [];
      let kept = 0;
      // Always drain the body: an unread body pins the keep-alive socket.
      res.on('data', (c: Buffer) => {
        if (ok && kept < BODY_KEEP_BYTES) {
          chunks.push(c);
          kept += c.length;
        }
      });
      res.on('error', (err: NodeJS.ErrnoException) => settle(false, err.code ?? err.message));
      // A truncated body (server killed mid-response) is an outage for the user too.
      res.on('close', () => { if (!res.complete) settle(false, 'truncated response'); });
      res.on('end', () => {
        if (!ok) return settle(false, `status ${status}`);
        const h = res.headers[versionHeader];
        const fromHeader = Array.isArray(h) ? h.join(',') : h;
        const fromBody = Buffer.concat(chunks).toString('utf8').trim().split(/\r?\n/, 1)[0]?.trim();
        settle(true, undefined, fromHeader?.trim() || fromBody || 'unknown');
      });
    };
    send(false);
  }

  // Fire every request whose slot has passed, so timer jitter delays requests but never drops
  // them and the achieved rate matches the requested one.
  function tick(): void {
    timer = undefined;
    const t = now();
    while (!scheduleExhausted() && scheduled * intervalMs <= t) fire(scheduled++);
    if (scheduleExhausted()) return maybeFinish();
    timer = setTimeout(tick, Math.max(0, scheduled * intervalMs - now()));
  }
  tick();

  return {
    done,
    async steady(ms: number): Promise<void> {
      const wait = ms - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      steadyUntil = scheduled;
    },
    stop(): Promise<LoadReport> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      // In-flight requests finish on their own, each bounded by its timeoutMs deadline.
      maybeFinish();
      return done;
    },
  };
}

function latencyOf(samples: Sample[]): Latency {
  const lat = samples.filter((s) => s.sent).map((s) => s.endMs - s.startMs).sort((a, b) => a - b);
  return { p50: round(percentile(lat, 50)), p90: round(percentile(lat, 90)), p99: round(percentile(lat, 99)), max: round(lat.at(-1) ?? 0) };
}

function buildReport(samples: Sample[], durationMs: number, t0Epoch: number, steadyUntil: number | undefined): LoadReport {
  const failures: Record<string, number> = {};
  const versions: Record<string, number> = {};
  const versionTimeline: LoadReport['versionTimeline'] = [];
  const failedAt: LoadReport['failedAt'] = [];
  let ok = 0;
  let longest = 0;
  let runStart = -1;
  let runEnd = 0;
  for (const s of samples) {
    if (s.ok) {
      ok++;
      const v = s.version ?? 'unknown';
      versions[v] = (versions[v] ?? 0) + 1;
      if (versionTimeline.at(-1)?.version !== v) versionTimeline.push({ atMs: round(s.startMs), version: v });
      runStart = -1;
      continue;
    }
    const key = s.reason ?? 'unknown';
    failures[key] = (failures[key] ?? 0) + 1;
    if (failedAt.length < 1000) failedAt.push({ at: Math.round(t0Epoch + s.startMs), endAt: Math.round(t0Epoch + s.endMs), reason: key });
    if (runStart < 0) [runStart, runEnd] = [s.startMs, s.endMs];
    // Max, not the last one's end: an earlier request that timed out ends after a later
    // ECONNREFUSED, and the user was still waiting on it.
    runEnd = Math.max(runEnd, s.endMs);
    longest = Math.max(longest, runEnd - runStart);
  }
  const lags = samples.map((s) => s.lagMs).sort((a, b) => a - b);
  const slowest = samples
    .filter((s) => s.sent)
    .sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))
    .slice(0, 10)
    .map((s) => ({ at: Math.round(t0Epoch + s.startMs), ms: round(s.endMs - s.startMs), path: s.path }));
  return {
    total: samples.length,
    ok,
    failed: samples.length - ok,
    retriedStaleConnections: samples.filter((x) => x.retried).length,
    failures,
    failedAt,
    longestFailureWindowMs: round(longest),
    latencyMs: latencyOf(samples),
    ...(steadyUntil === undefined ? {} : { steadyLatencyMs: latencyOf(samples.slice(0, steadyUntil)), deployLatencyMs: latencyOf(samples.slice(steadyUntil)) }),
    slowest,
    schedulingLagMs: { p99: round(percentile(lags, 99)), max: round(lags.at(-1) ?? 0) },
    versions,
    versionTimeline,
    durationMs: round(durationMs),
  };
}
