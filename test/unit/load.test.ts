import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { downtimeProblems, failedSince, formatReport, runLoad, startLoad, STALE_RESET_WINDOW_MS } from '../support/load';

type Handler = (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void;

// n = 0-based arrival order of the request at the server.
async function serve(handler: Handler): Promise<{ url: string; server: http.Server; count: () => number }> {
  let n = 0;
  const server = http.createServer((req, res) => handler(n++, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/`, server, count: () => n };
}

// The server sees requests in arrival order, which under CPU pressure can differ from start
// order (several sockets in flight). Tests that need per-request behaviour therefore key it on
// the request's schedule index, carried in a cycled path list.
const indexedPaths = (n: number): string[] => Array.from({ length: n }, (_, i) => `/api/?i=${i}`);
const indexOf = (req: http.IncomingMessage): number => Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i'));

/** Resolves `reached` once `tick` was called N times: a test waits on what its server saw, not on a clock. */
function countTo(n: number): { tick(): void; reached: Promise<void> } {
  let seen = 0;
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return { tick: () => void (++seen === n && reach()), reached };
}

async function shutdown(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test('version switch shows up in versions and timeline, in order', async () => {
  const { url, server } = await serve((_n, req, res) => {
    res.writeHead(200, { 'x-app-version': indexOf(req) < 15 ? 'v1' : 'v2' }).end('hello');
  });
  try {
    const r = await runLoad({ url, paths: indexedPaths(30), ratePerSecond: 100, durationMs: 300 });
    assert.equal(r.total, 30);
    assert.equal(r.failed, 0);
    assert.deepEqual(r.failures, {});
    assert.equal(r.longestFailureWindowMs, 0);
    assert.deepEqual(r.versions, { v1: 15, v2: 15 });
    assert.deepEqual(r.versionTimeline.map((e) => e.version), ['v1', 'v2']);
    // On schedule, give or take the generator's own measured lag (a loaded machine delays starts).
    const lag = r.schedulingLagMs.max;
    assert.ok(r.versionTimeline[0]!.atMs < 20 + lag, `first at ${r.versionTimeline[0]!.atMs} (lag ${lag})`);
    const at = r.versionTimeline[1]!.atMs;
    assert.ok(at >= 145 && at < 400 + lag, `switch at ${at}ms (lag ${lag})`);
    assert.ok(r.latencyMs.max >= r.latencyMs.p99 && r.latencyMs.p99 >= r.latencyMs.p50);
    assert.match(formatReport(r), /30 requests .* 30 ok, 0 failed .*v1@\d+ms -> v2@\d+ms/);
  } finally {
    await shutdown(server);
  }
});

test('version falls back to the first line of the body, and paths are cycled', async () => {
  const seen: string[] = [];
  const { url, server } = await serve((_n, req, res) => {
    seen.push(req.url ?? '');
    res.end('  server v3\nsecond line\n');
  });
  try {
    const r = await runLoad({ url, paths: ['/a', '/a', '/b'], ratePerSecond: 100, durationMs: 60 });
    assert.deepEqual(r.versions, { 'server v3': 6 });
    assert.deepEqual(seen.sort(), ['/a', '/a', '/a', '/a', '/b', '/b']);
  } finally {
    await shutdown(server);
  }
});

test('a window of 502s is counted and its length measured', async () => {
  // Requests 20..39 fail: at 100 req/s that is a ~190ms span of starts plus one latency.
  const { url, server } = await serve((_n, req, res) => {
    const i = indexOf(req);
    res.writeHead(i >= 20 && i < 40 ? 502 : 200, { 'x-app-version': 'v1' }).end('body');
  });
  try {
    const r = await runLoad({ url, paths: indexedPaths(60), ratePerSecond: 100, durationMs: 600 });
    assert.equal(r.total, 60);
    assert.equal(r.ok, 40);
    assert.equal(r.failed, 20);
    assert.deepEqual(r.failures, { 'status 502': 20 });
    // The failing starts span 190 ms, stretched or shrunk by the generator's measured lag, plus a latency.
    const lag = r.schedulingLagMs.max;
    const window = r.longestFailureWindowMs;
    assert.ok(window >= 150 - lag && window <= 400 + lag + r.latencyMs.max, `window ${window} (lag ${lag}, max latency ${r.latencyMs.max})`);
    assert.deepEqual(r.versions, { v1: 40 });
  } finally {
    await shutdown(server);
  }
});

test('closing the server mid-run counts connection errors', async () => {
  const answered = countTo(10);
  const { url, server } = await serve((_n, _req, res) => {
    res.end('v1');
    answered.tick();
  });
  // Shut down once ten requests were answered (not after a fixed time, which a loaded machine
  // stretches), with most of the 2 s schedule still to go.
  const load = startLoad({ url, ratePerSecond: 100, durationMs: 2_000 });
  await answered.reached;
  await shutdown(server);
  const r = await load.done;
  assert.equal(r.total, 200);
  assert.ok(r.ok >= 10, `ok ${r.ok}`);
  assert.ok(r.failed >= 20, `failed ${r.failed}`);
  assert.equal(r.ok + r.failed, r.total);
  for (const key of Object.keys(r.failures)) assert.match(key, /^(ECONNREFUSED|ECONNRESET|truncated response)/);
  assert.ok((r.failures['ECONNREFUSED on a fresh connection'] ?? 0) > 0, JSON.stringify(r.failures));
  assert.ok(r.longestFailureWindowMs >= 200, `window ${r.longestFailureWindowMs}`);
});

test('non-loopback or non-http urls throw before anything is sent', () => {
  const base = { ratePerSecond: 10, durationMs: 100 };
  for (const url of [
    'http://10.0.0.1/',
    'http://example.com/',
    'http://127.0.0.1.example.com/',
    'http://localhost.example.com/',
    'http://[::2]/',
    'https://127.0.0.1/',
    'not a url',
  ]) {
    assert.throws(() => startLoad({ ...base, url }), Error, url);
  }
  assert.throws(() => startLoad({ ...base, url: 'http://example.com/' }), /non-loopback/);
});

test('loopback spellings are accepted', async () => {
  const { url, server } = await serve((_n, _req, res) => res.end('v1'));
  const port = new URL(url).port;
  try {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.1.2.3']) {
      const r = await runLoad({ url: `http://${host}:${port}/`, ratePerSecond: 100, durationMs: 20, timeoutMs: 500 });
      assert.equal(r.total, 2, host);
    }
  } finally {
    await shutdown(server);
  }
});

test('maxRequests bounds the count', async () => {
  const { url, server, count } = await serve((_n, _req, res) => res.end('v1'));
  try {
    const r = await runLoad({ url, ratePerSecond: 200, durationMs: 5000, maxRequests: 10 });
    assert.equal(r.total, 10);
    assert.equal(count(), 10);
    assert.ok(r.durationMs < 2_500, `finished long before durationMs: ${r.durationMs} ms`);
  } finally {
    await shutdown(server);
  }
});

test('durationMs bounds the time, and the rate is held', async () => {
  const { url, server, count } = await serve((_n, _req, res) => res.end('v1'));
  try {
    const r = await runLoad({ url, ratePerSecond: 50, durationMs: 400 });
    assert.equal(r.total, 20);
    assert.equal(count(), 20);
    assert.ok(r.durationMs >= 370 && r.durationMs < 700, `reported ${r.durationMs}`);
  } finally {
    await shutdown(server);
  }
});

test('timeouts fail, overload is counted instead of queued, stop() is bounded', async () => {
  // Never answers: every sent request must hit its timeout.
  const { url, server, count } = await serve(() => {});
  try {
    // A 1 s timeout, so none of the three times out (and frees a slot) in the 100 ms of
    // overload even on a loaded machine.
    const load = startLoad({ url, ratePerSecond: 100, durationMs: 10_000, timeoutMs: 1_000, maxInFlight: 3 });
    await load.ready;
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 100));
    const r = await load.stop();
    const elapsed = performance.now() - t;
    assert.ok(elapsed < 1_900, `stop took ${elapsed}: the in-flight requests' timeout, not the 10 s schedule`);
    assert.equal(await load.done, r);
    assert.equal(count(), 3);
    assert.equal(r.ok, 0);
    assert.equal(r.failures.timeout, 3);
    const overload = r.failures.overload ?? 0;
    assert.ok(overload >= 5, `overload ${overload}`);
    assert.equal(r.total, 3 + overload);
    assert.ok(r.latencyMs.max >= 990 && r.latencyMs.max < 1_600, `max ${r.latencyMs.max}`);
  } finally {
    await shutdown(server);
  }
});

test('a reset on a reused keep-alive socket is resent once and counted; a reset on a fresh one fails', async () => {
  // The server drops the second request on each connection without answering, as a
  // server closing an idle keep-alive socket at the wrong moment does.
  const perSocket = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n === 2 || req.url === '/always-reset') {
      req.socket.destroy();
      return;
    }
    res.setHeader('x-app-version', 'v1');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    // Half a second apart, so each answer is back in the pool before the next request, even under load.
    const stale = await runLoad({ url: `http://127.0.0.1:${port}/`, ratePerSecond: 2, durationMs: 2_000, maxRequests: 4 });
    assert.equal(stale.failed, 0, formatReport(stale));
    assert.ok(stale.retriedStaleConnections >= 1, formatReport(stale));
    const fresh = await runLoad({ url: `http://127.0.0.1:${port}/always-reset`, ratePerSecond: 5, durationMs: 600, maxRequests: 2 });
    assert.equal(fresh.failed, 2, formatReport(fresh));
    assert.deepEqual(Object.keys(fresh.failures), ['ECONNRESET on a fresh connection']);
  } finally {
    server.close();
  }
});

test('after a reload leaves several pooled sockets stale at once, the resend goes out on a fresh connection', async () => {
  // nginx's reload closes every idle keep-alive socket of its old workers together. Until
  // `reloadAt`, each request is answered slowly so the pool holds several sockets; from then
  // on any request arriving on one of those old sockets is dropped, as a closing worker does.
  const oldSockets = new WeakSet<object>();
  let reloaded = false;
  const server = http.createServer((req, res) => {
    if (reloaded && oldSockets.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    if (!reloaded) oldSockets.add(req.socket);
    res.setHeader('x-app-version', 'v1');
    setTimeout(() => res.end('ok'), reloaded ? 0 : 150);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let reload: NodeJS.Timeout | undefined;
  try {
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, ratePerSecond: 30, durationMs: 1_200 });
    await load.ready;
    reload = setTimeout(() => (reloaded = true), 600);
    const r = await load.done;
    assert.ok(r.retriedStaleConnections >= 2, `several stale sockets were hit: ${formatReport(r)}`);
    assert.equal(r.failed, 0, formatReport(r));
  } finally {
    clearTimeout(reload);
    server.closeAllConnections();
    server.close();
  }
});

test('a reset that comes late, or after the response began, is a failure and never resent', async () => {
  // The second request on each connection is held, then the connection is cut: the server may
  // have processed it, so a real client would not send it again.
  const perSocket = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n === 2 && req.url === '/late') {
      setTimeout(() => req.socket.destroy(), STALE_RESET_WINDOW_MS + 300);
      return;
    }
    if (n === 2 && req.url === '/after-headers') {
      res.writeHead(200, { 'x-app-version': 'v1' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    res.setHeader('x-app-version', 'v1');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    // A second apart, so the first answer is back in the pool before the second request goes out,
    // even on a loaded machine (at 5/s the second one sometimes took a fresh socket there).
    const late = await runLoad({ url: `http://127.0.0.1:${port}/late`, ratePerSecond: 1, durationMs: 2_000, maxRequests: 2 });
    assert.equal(late.retriedStaleConnections, 0, formatReport(late));
    assert.deepEqual(late.failures, { 'ECONNRESET late on a reused connection': 1 }, formatReport(late));
    const cut = await runLoad({ url: `http://127.0.0.1:${port}/after-headers`, ratePerSecond: 1, durationMs: 2_000, maxRequests: 2 });
    assert.equal(cut.retriedStaleConnections, 0, formatReport(cut));
    assert.equal(cut.failed, 1, formatReport(cut));
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a stall under the timeout is caught against the steady state; a steady run passes', async () => {
  let stall = false;
  const stalledAnswers = countTo(5);
  let arrivals: ReturnType<typeof countTo> | undefined;
  const { url, server } = await serve((_n, _req, res) => {
    arrivals?.tick();
    const stalled = stall;
    setTimeout(() => {
      res.writeHead(200, { 'x-app-version': 'v1' }).end('ok');
      if (stalled) stalledAnswers.tick();
    }, stalled ? 4_000 : 5);
  });
  try {
    const steady = startLoad({ url, ratePerSecond: 50, durationMs: 1_500 });
    await steady.steady(500);
    const calm = await steady.done;
    assert.ok(calm.steadyLatencyMs && calm.deployLatencyMs, formatReport(calm));
    assert.deepEqual(downtimeProblems(calm), [], formatReport(calm));

    // Stopped once five stalled answers came back, not after a fixed time: on a busy machine the
    // steady mark can come late, and a fixed-length run could end before any request stalled.
    // A 4 s stall, far above the bound even when a loaded machine slows the steady state, and
    // under the 10 s timeout.
    const stalled = startLoad({ url, ratePerSecond: 50, durationMs: 60_000, timeoutMs: 10_000 });
    await stalled.steady(500);
    // Stall only once ten later requests arrived: a loaded machine can deliver a request sent
    // before the steady mark after it, and a stalled one counted as steady would hide the stall.
    arrivals = countTo(10);
    await arrivals.reached;
    stall = true;
    await stalledAnswers.reached;
    const r = await stalled.stop();
    assert.equal(r.failed, 0, 'nothing failed: only the latency tells the stall');
    assert.ok(downtimeProblems(r).some((p) => /^max \d+(\.\d+)? ms during the deploy/.test(p)), `${downtimeProblems(r).join('; ')} ${formatReport(r)}`);
    assert.match(downtimeProblems(startLoadReportWithoutMark(r)).join(), /no steady state/);
  } finally {
    await shutdown(server);
  }
});

function startLoadReportWithoutMark(r: Awaited<ReturnType<typeof runLoad>>) {
  const { steadyLatencyMs: _s, deployLatencyMs: _d, ...rest } = r;
  return rest;
}

test('the generator runs in its own process: a blocked test event loop does not delay its requests', async () => {
  // The server must not live in this process either, or blocking it would stall the answers.
  const server = spawn(process.execPath, ['-e', "require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [port] = (await once(server.stdout!, 'data')) as [Buffer];
    const load = startLoad({ url: `http://127.0.0.1:${String(port).trim()}/`, ratePerSecond: 50, durationMs: 1_500 });
    await load.ready;
    // Busy here for 1 s, as a worker replaying a history might be.
    const until = Date.now() + 1_000;
    while (Date.now() < until);
    const r = await load.done;
    assert.equal(r.total, 75);
    assert.ok(r.latencyMs.max < 500, `no request waited on this process: ${formatReport(r)}`);
    assert.ok(r.schedulingLagMs.max < 500, `the generator kept its schedule: ${formatReport(r)}`);
  } finally {
    server.kill();
  }
});

test('each failure is kept with the time it started, to tell which step lost it', async () => {
  const { url, server } = await serve((_n, req, res) => {
    res.writeHead(indexOf(req) >= 10 ? 502 : 200, { 'x-app-version': 'v1' }).end('ok');
  });
  try {
    const before = Date.now();
    const r = await runLoad({ url, paths: indexedPaths(20), ratePerSecond: 50, durationMs: 400 });
    assert.equal(r.failedAt.length, 10);
    assert.ok(r.failedAt.every((f) => f.reason === 'status 502' && f.at >= before && f.at <= Date.now()));
    const midway = r.failedAt[5]!.at;
    assert.equal(failedSince(r, midway + 1).length <= 4, true);
    assert.equal(failedSince(r, 0).length, 10);
  } finally {
    await shutdown(server);
  }
});
