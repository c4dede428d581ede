// Bounded, open-loop HTTP load generator for measuring downtime during deployments.
// Open-loop on purpose: a closed-loop client slows down when the service stalls and so
// hides exactly the outage we want to measure.
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

export interface LoadReport {
  total: number;
  ok: number;
  failed: number;
  /** Requests resent once on a fresh connection after a stale keep-alive socket was reset (as browsers do). */
  retriedStaleConnections: number;
  failures: Record<string, number>;
  longestFailureWindowMs: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  versions: Record<string, number>;
  versionTimeline: Array<{ atMs: number; version: string }>;
  durationMs: number;
}

export interface RunningLoad {
  stop(): Promise<LoadReport>;
  done: Promise<LoadReport>;
}

interface Sample {
  startMs: number;
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

export function startLoad(opts: LoadOptions): RunningLoad {
  // Validate everything up front so a bad call throws before a single request goes out.
  const base = assertLoopback(opts.url);
  if (!(opts.ratePerSecond > 0)) throw new Error('load: ratePerSecond must be > 0');
  if (!(opts.durationMs > 0)) throw new Error('load: durationMs must be > 0');
  const paths = opts.paths && opts.paths.length > 0 ? opts.paths : [base.pathname + base.search];
  for (const p of paths) if (!p.startsWith('/')) throw new Error(`load: path must start with '/': ${p}`);
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
  const now = (): number => performance.now() - t0;
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
    resolveDone(buildReport(samples, now()));
  }

  function fire(i: number): void {
    const startMs = now();
    const sample: Sample = { startMs, endMs: startMs, ok: false, sent: false };
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
    const send = (retry: boolean): void => {
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
        // counts it. A reset on a fresh connection, or a second one, is a failure.
        if (!retry && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && !settled) {
          sample.retried = true;
          send(true);
          return;
        }
        // Which socket failed tells a proxy's reload race from an outage in the report.
        const code = err.code ?? err.message;
        settle(false, retry ? `${code} on resend` : req.reusedSocket ? code : `${code} on a fresh connection`);
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

export function runLoad(opts: LoadOptions): Promise<LoadReport> {
  return startLoad(opts).done;
}

function buildReport(samples: Sample[], durationMs: number): LoadReport {
  const failures: Record<string, number> = {};
  const versions: Record<string, number> = {};
  const versionTimeline: LoadReport['versionTimeline'] = [];
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
    if (runStart < 0) [runStart, runEnd] = [s.startMs, s.endMs];
    // Max, not the last one's end: an earlier request that timed out ends after a later
    // ECONNREFUSED, and the user was still waiting on it.
    runEnd = Math.max(runEnd, s.endMs);
    longest = Math.max(longest, runEnd - runStart);
  }
  const lat = samples.filter((s) => s.sent).map((s) => s.endMs - s.startMs).sort((a, b) => a - b);
  return {
    total: samples.length,
    ok,
    failed: samples.length - ok,
    retriedStaleConnections: samples.filter((x) => x.retried).length,
    failures,
    longestFailureWindowMs: round(longest),
    latencyMs: {
      p50: round(percentile(lat, 50)),
      p90: round(percentile(lat, 90)),
      p99: round(percentile(lat, 99)),
      max: round(lat.at(-1) ?? 0),
    },
    versions,
    versionTimeline,
    durationMs: round(durationMs),
  };
}

export function formatReport(r: LoadReport): string {
  const kv = (o: Record<string, number>): string =>
    Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
  const l = r.latencyMs;
  // While two versions serve side by side the timeline flips on every request; show its ends.
  const entries = r.versionTimeline.map((e) => `${e.version}@${Math.round(e.atMs)}ms`);
  const timeline = entries.length > 6 ? `${entries.slice(0, 3).join(' -> ')} -> … (${entries.length - 6} more) -> ${entries.slice(-3).join(' -> ')}` : entries.join(' -> ') || 'none';
  return (
    `${r.total} requests in ${(r.durationMs / 1000).toFixed(1)}s: ${r.ok} ok, ${r.failed} failed (${kv(r.failures)}), ` +
    `${r.retriedStaleConnections} resent after a stale keep-alive reset; ` +
    `longest failure window ${Math.round(r.longestFailureWindowMs)}ms; ` +
    `latency p50 ${l.p50}ms p90 ${l.p90}ms p99 ${l.p99}ms max ${l.max}ms; ` +
    `versions ${kv(r.versions)}; timeline ${timeline}.`
  );
}
