/**
 * Benchmark: what a v1 -> v2 deploy of `server` costs users, per proxy, under the same open-loop load,
 * done naively (the rolling update a team types by hand) and by Composure's deploy workflow.
 * Writes bench/results/deploy-downtime.{json,md}. Usage: npm run bench -- [--runs N] (default 2)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareRigDeploy, resetStack, withDeployWorker } from '../test/support/deploy';
import { formatReport, startLoad, type LoadReport } from '../test/support/load';
import { loadRig } from '../test/support/rig';

type Proxy = 'traefik' | 'nginx';
type Method = 'naive' | 'composure';
const PROXIES: Proxy[] = ['traefik', 'nginx'];
const RESULTS_DIR = path.join(__dirname, 'results');
// The rig tests' load: mostly fast requests plus a 1 s one, so a deploy that cuts requests in flight shows.
const LOAD = { paths: ['/api/', '/api/', '/api/', '/api/slow'], ratePerSecond: 50, timeoutMs: 5_000 };
const LEAD_MS = 2_000; // healthy v1 answers first, so the load is warm when the deploy starts
const TAIL_MS = 5_000; // after v2 answers: an old container still draining can fail late
// Time limits. Measured window at most lead 2 + deploy 75 + v2 15 + tail 5 + last requests 5 = 102 s;
// RUN_LIMIT_MS bounds all of a run after its reset (settling, planning, worker start, window).
const SETTLE_LIMIT_MS = 10_000;
const DEPLOY_LIMIT_MS = 75_000;
const V2_LIMIT_MS = 15_000;
const RUN_LIMIT_MS = 115_000;

type RunRecord = { run: number; proxy: Proxy; method: Method; startedAt: string; outcome: string /* exit or workflow outcome */; error?: string; v2Answered: boolean; deployWallMs: number }
  & Pick<LoadReport, 'total' | 'failed' | 'failures' | 'longestFailureWindowMs' | 'versions'> & { latencyMs: Omit<LoadReport['latencyMs'], 'p90'> };

function parseRuns(argv: string[]): number {
  const i = argv.indexOf('--runs'), runs = i < 0 ? 2 : Number(argv[i + 1]);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error('usage: deploy-downtime.ts [--runs N] (1..20)');
  return runs;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms)));
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/**
 * The hand-typed update as user deploy. Async, never execFileSync: a blocked event loop would stall
 * the load generator and hide the outage. `timeout` signals its whole process group, which reaches
 * the docker CLI that `su -c` (a new session) would otherwise leave behind.
 */
function naiveDeploy(proxy: Proxy): Promise<string> {
  const steps = `cd ~/apps/shop-${proxy} && git checkout -q v2 && docker compose build server && docker compose up -d --no-deps server`;
  const command = `timeout -k 5 ${DEPLOY_LIMIT_MS / 1000} sh -c '${steps}'`;
  return new Promise((resolve, reject) => {
    const child = spawn('su', ['-', 'deploy', '-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = ''; // the tail only, for the error message
    const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-2_000));
    for (const stream of [child.stdout, child.stderr]) stream.on('data', keep);
    const backstop = setTimeout(() => child.kill('SIGKILL'), DEPLOY_LIMIT_MS + 10_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(backstop);
      if (code === 0) resolve('exit 0');
      else reject(new Error(`naive deploy: ${signal ?? `exit ${code}`}${code === 124 ? ' (time limit)' : ''}: ${output.trim()}`));
    });
  });
}

/** True once /api/ answers `version` `times` in a row; false at the time limit. A failure (refused, reset) breaks the streak. */
async function answers(url: string, version: string, times: number, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (let streak = 0; Date.now() < deadline; await sleep(50)) {
    const response = await fetch(`${url}/api/`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    await response?.arrayBuffer().catch(() => undefined); // drained, so the socket is freed
    streak = response?.ok === true && response.headers.get('x-app-version') === version ? streak + 1 : 0;
    if (streak >= times) return true;
  }
  return false;
}

/** Load from LEAD_MS before `deploy` to TAIL_MS after v2 answers; wall time is the deploy call alone. */
async function measure(run: number, proxy: Proxy, method: Method, deploy: () => Promise<string>): Promise<RunRecord> {
  const url = loadRig().stacks[proxy].url;
  // Traefik routes to the reset's new v1 container a moment after Compose calls it healthy: without
  // a steady v1 first, the reset's own 404s were counted against the deploy.
  if (!(await answers(url, 'v1', 20, SETTLE_LIMIT_MS))) throw new Error(`${proxy} does not answer v1 steadily after the reset`);
  const startedAt = new Date().toISOString();
  // durationMs is a bound only: stop() below ends the load normally.
  const load = startLoad({ url: `${url}/api/`, ...LOAD, durationMs: RUN_LIMIT_MS });
  let outcome = 'error', error: string | undefined, deployWallMs = 0, v2Answered = false, report: LoadReport;
  try {
    await sleep(LEAD_MS);
    const t0 = performance.now();
    try {
      outcome = await deploy();
    } catch (err) {
      error = (err as Error).message;
    }
    deployWallMs = Math.round(performance.now() - t0);
    v2Answered = await answers(url, 'v2', 1, V2_LIMIT_MS);
    await sleep(TAIL_MS);
  } finally {
    report = await load.stop();
  }
  console.log(`[${proxy} ${method} #${run}] ${outcome}, deploy ${(deployWallMs / 1000).toFixed(1)} s${error ? `, ERROR ${error}` : ''}\n  ${formatReport(report)}`);
  const { total, failed, failures, longestFailureWindowMs, latencyMs: { p50, p99, max }, versions } = report;
  return { run, proxy, method, startedAt, outcome, error, v2Answered, deployWallMs, total, failed, failures, longestFailureWindowMs, latencyMs: { p50, p99, max }, versions };
}

async function composureRun(run: number, proxy: Proxy): Promise<RunRecord> {
  // Planning (SSH reads) and the worker's start are setup, outside the load window like the tests.
  const input = await prepareRigDeploy(proxy, 'v2');
  return withDeployWorker(({ start }) =>
    measure(run, proxy, 'composure', async () => {
      const handle = await start(input);
      try {
        return (await withTimeout(handle.result(), DEPLOY_LIMIT_MS, 'the deploy workflow')).outcome;
      } catch (err) {
        // Never leave a deploy running into the next run's reset.
        await handle.terminate('benchmark: time limit or failure').catch(() => undefined);
        throw err;
      }
    }),
  );
}

const median = (xs: number[]): number | null => {
  const s = [...xs].sort((a, b) => a - b), mid = Math.floor(s.length / 2);
  return s.length === 0 ? null : s.length % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 100) / 100);

function summarize(runs: RunRecord[]) {
  const aggregates = PROXIES.flatMap((proxy) => (['naive', 'composure'] as const).map((method) => {
    const rs = runs.filter((r) => r.proxy === proxy && r.method === method);
    return {
      proxy, method, runs: rs.length, errors: rs.filter((r) => r.error !== undefined || !r.v2Answered).length,
      requests: rs.reduce((n, r) => n + r.total, 0), failed: rs.reduce((n, r) => n + r.failed, 0),
      longestFailureWindowMs: Math.max(0, ...rs.map((r) => r.longestFailureWindowMs)),
      medianP99Ms: median(rs.map((r) => r.latencyMs.p99)), medianDeployWallMs: median(rs.map((r) => r.deployWallMs)),
    };
  }));
  // Paired by run: both methods of a run ran back to back, so they shared the machine's state.
  const ratios = PROXIES.map((proxy) => {
    const pairs = [...new Set(runs.map((r) => r.run))].flatMap((run) => {
      const n = runs.find((r) => r.run === run && r.proxy === proxy && r.method === 'naive');
      const c = runs.find((r) => r.run === run && r.proxy === proxy && r.method === 'composure');
      return n && c ? [{ run, failed: ratio(c.failed, n.failed), deployWall: ratio(c.deployWallMs, n.deployWallMs) }] : [];
    });
    const med = (xs: Array<number | null>): number | null => median(xs.filter((x): x is number => x !== null));
    return { proxy, pairs, medianFailed: med(pairs.map((p) => p.failed)), medianDeployWall: med(pairs.map((p) => p.deployWall)) };
  });
  return { aggregates, ratios };
}

function markdown(s: ReturnType<typeof summarize>, machine: { nproc: number; date: string }): string {
  const sec = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
  const rows = s.aggregates.map((a) =>
    `| ${a.proxy} | ${a.method} | ${a.runs}${a.errors ? ` (${a.errors} errored)` : ''} | ${a.requests} | ${a.failed} | ${sec(a.longestFailureWindowMs)} | ${a.medianP99Ms ?? 'n/a'} ms | ${sec(a.medianDeployWallMs)} |`);
  const x = (r: number | null, naiveZero: string): string => (r === null ? naiveZero : `${r}×`);
  const ratios = s.ratios.map((r) => `- ${r.proxy}: failed requests ${x(r.medianFailed, 'n/a (naive lost none)')}, deploy time ${x(r.medianDeployWall, 'n/a')}`);
  return [
    '# Deploy downtime: naive rolling update vs Composure',
    '',
    `Load: ${LOAD.ratePerSecond} req/s over ${LOAD.paths.join(', ')} (/api/slow takes 1 s), from ${LEAD_MS / 1000} s before the deploy to ${TAIL_MS / 1000} s after v2 answers.`,
    'Failed, requests: sums over runs; longest outage: max; p99 and deploy time (command or workflow start to end): medians.',
    '',
    '| proxy | method | runs | requests | failed | longest outage | p99 | deploy time |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Ratio composure/naive, paired within each run (median over runs):',
    ...ratios,
    '',
    `Machine: nproc ${machine.nproc}, ${machine.date}, Node ${process.version}.`,
    'Machines are noisy (and the rig stacks may be shared with other test runs): compare the ratios, not the absolute numbers.',
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const n = parseRuns(process.argv.slice(2));
  const machine = { nproc: os.availableParallelism(), date: new Date().toISOString() };
  const runs: RunRecord[] = [];
  // Saved after every run, so a run that stops the benchmark does not lose the runs before it.
  const save = (): string => {
    const summary = summarize(runs), md = markdown(summary, machine);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, 'deploy-downtime.json'), JSON.stringify({ machine, load: { ...LOAD, leadMs: LEAD_MS, tailMs: TAIL_MS }, runs, ...summary }, null, 2) + '\n');
    writeFileSync(path.join(RESULTS_DIR, 'deploy-downtime.md'), md);
    return md;
  };
  try {
    for (let run = 1; run <= n; run++) {
      for (const proxy of PROXIES) {
        // Alternate which method goes first, so a slow spell of the machine hits both.
        const order: Method[] = run % 2 === 1 ? ['naive', 'composure'] : ['composure', 'naive'];
        for (const method of order) {
          resetStack(proxy); // v1, one container each, no lock (not timed: it is not part of the run)
          const work = method === 'naive' ? measure(run, proxy, method, () => naiveDeploy(proxy)) : composureRun(run, proxy);
          runs.push(await withTimeout(work, RUN_LIMIT_MS, `${proxy} ${method} run ${run}`));
          save();
        }
      }
    }
    return 0;
  } catch (err) {
    // The stack's state is unknown after a run that failed or hit its limit: stop there.
    console.error(`benchmark stopped: ${(err as Error).message}`);
    return 1;
  } finally {
    for (const proxy of PROXIES) resetStack(proxy); // leave the rig at v1 for everybody else
    console.log(`\n${save()}`);
  }
}

// Exit explicitly: work abandoned at a time limit must not keep the process alive.
main().then((code) => process.exit(code), (err: unknown) => (console.error(err), process.exit(1)));
