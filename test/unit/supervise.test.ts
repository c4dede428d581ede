/**
 * Supervised host commands, on real processes (the local transport runs real
 * sh, setsid and kill): an effect runs once however often its activity is
 * retried, a retry attaches to the run under way, a cancel stops it, a worker
 * letting go leaves it running, and outside an activity it simply runs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActivityCancellationDetails } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { singleTransport } from '../../activities';
import { heartbeating, hostOf } from '../../activities/host';
import { superviseStart, superviseWait } from '../../src/commands/supervise';
import type { DeployTarget } from '../../src/deploy/types';
import { LocalTransport, RunLostError, CommandTimeoutError } from '../../src/transport';

const transport = new LocalTransport();

function project() {
  const dir = mkdtempSync(path.join(tmpdir(), 'composure-supervise-'));
  return { dir, target: { directory: dir } as Pick<DeployTarget, 'host' | 'directory'> };
}

/** One attempt of an activity: the same workflow run and activity id each time, as Temporal retries it. */
function attempt(attemptNo: number, activityId = '7') {
  return new MockActivityEnvironment({ activityId, attempt: attemptNo, workflowExecution: { workflowId: 'deploy-x', runId: 'run-1' } } as never);
}

/** Runs FN in the mock activity context, keeping its result type. */
function inActivity<R>(env: MockActivityEnvironment, fn: () => Promise<R>): Promise<R> {
  return env.run(fn) as Promise<R>;
}

/** A command that counts its runs in a file, then takes MS to finish. */
const counted = (file: string, seconds: number) => ['sh', '-c', 'echo ran >> "$1"; sleep "$2"; echo done', 'counted', file, String(seconds)];
const runs = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

describe('supervised effects', () => {
  it('a retried attempt attaches to the run the first started, instead of running it again', async () => {
    const { dir, target } = project();
    const file = path.join(dir, 'runs.log');
    const first = attempt(1);
    const firstRun = assert.rejects(
      inActivity(first, () => hostOf(singleTransport(transport), target).apply(counted(file, 2))),
      /left running on the host/,
    );
    await sleep(500);
    // The worker let go of attempt 1 (shutdown, lost heartbeat): the command keeps running on the host.
    first.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    await firstRun;
    const second = await inActivity(attempt(2), () => hostOf(singleTransport(transport), target).apply(counted(file, 2)));
    assert.equal(second.attached, true);
    assert.equal(second.code, 0);
    assert.match(second.output, /done/);
    assert.equal(runs(file), 1, 'the command ran once');
    // A third attempt after the end takes the recorded status, still without running anything.
    const third = await inActivity(attempt(3), () => hostOf(singleTransport(transport), target).apply(counted(file, 2)));
    assert.equal(runs(file), 1);
    assert.equal(third.attached, true);
  });

  it('the same command twice in one activity runs twice; another activity runs its own', async () => {
    const { dir, target } = project();
    const file = path.join(dir, 'runs.log');
    await attempt(1).run(async () => {
      const host = hostOf(singleTransport(transport), target);
      await host.apply(counted(file, 0));
      await host.apply(counted(file, 0));
    });
    await inActivity(attempt(1, '8'), () => hostOf(singleTransport(transport), target).apply(counted(file, 0)));
    assert.equal(runs(file), 3);
  });

  it('keeps the exit status and the output, and reports a failure', async () => {
    const { target } = project();
    const result = await inActivity(attempt(1), () => hostOf(singleTransport(transport), target).effect(['sh', '-c', 'echo out; echo err >&2; exit 4']));
    assert.equal(result.code, 4);
    assert.match(result.output, /out/);
    assert.match(result.output, /err/);
    await assert.rejects(
      inActivity(attempt(1, '9'), () => hostOf(singleTransport(transport), target).apply(['sh', '-c', 'echo broken >&2; exit 3'])),
      (err: Error) => err.name === 'CommandFailedError' && /exit code 3/.test(err.message) && /broken/.test(err.message),
    );
  });

  it('output that looks like a trailer cannot forge the exit status', async () => {
    const { target } = project();
    const result = await inActivity(attempt(1), () => hostOf(singleTransport(transport), target).effect(['sh', '-c', 'printf "\\nabcdefgh exit 0 0\\n"; exit 5']));
    assert.equal(result.code, 5);
  });

  it('a cancel stops the command (its whole process group)', async () => {
    const { dir, target } = project();
    const marker = path.join(dir, 'late');
    const env = attempt(1);
    const started = Date.now();
    const run = assert.rejects(
      inActivity(env, () => hostOf(singleTransport(transport), target).apply(['sh', '-c', 'sleep 30; touch "$1"', 'late', marker])),
      /cancelled/,
    );
    await sleep(500);
    env.cancel('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
    await run;
    assert.ok(Date.now() - started < 15_000, 'stopped promptly');
    await sleep(300);
    assert.equal(existsSync(marker), false);
  });

  it('a timeout stops the command and says so', async () => {
    const { dir, target } = project();
    const marker = path.join(dir, 'late');
    await assert.rejects(
      inActivity(attempt(1), () => hostOf(singleTransport(transport), target).apply(['sh', '-c', 'sleep 20; touch "$1"', 'late', marker], { timeoutMs: 500 })),
      (err: Error) => err instanceof CommandTimeoutError,
    );
    await sleep(300);
    assert.equal(existsSync(marker), false);
  });

  it('a run whose process vanished without a status is reported, not re-run', async () => {
    const { dir, target } = project();
    const file = path.join(dir, 'runs.log');
    const env = attempt(1);
    const run = assert.rejects(inActivity(env, () => hostOf(singleTransport(transport), target).apply(counted(file, 30))));
    await sleep(700);
    env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    await run;
    // Something outside Composure kills the runner and its command (an OOM kill, a reboot).
    const runDir = findRunDir(dir);
    process.kill(-Number(readFileSync(path.join(runDir, 'pid'), 'utf8').trim()), 'SIGKILL');
    await sleep(300);
    await assert.rejects(
      inActivity(attempt(2), () => hostOf(singleTransport(transport), target).apply(counted(file, 30))),
      (err: Error) => err instanceof RunLostError,
    );
    assert.equal(runs(file), 1);
  });

  it('a claim whose runner never started is claimed again, once', async () => {
    const { dir, target } = project();
    const file = path.join(dir, 'runs.log');
    // A start cut short between the claim and the runner: the run dir exists, empty.
    const argv = counted(file, 0);
    const probe = attempt(1);
    await inActivity(probe, () => hostOf(singleTransport(transport), target).apply(argv));
    const runDir = findRunDir(dir);
    rmSync(runDir, { recursive: true });
    mkdirSync(runDir);
    const again = await inActivity(attempt(2), () => hostOf(singleTransport(transport), target).apply(argv));
    assert.equal(again.code, 0);
    assert.equal(runs(file), 2, 'the first run, then the one that replaced the empty claim');
  });

  it('outside an activity the command simply runs', async () => {
    const { dir, target } = project();
    const file = path.join(dir, 'runs.log');
    await hostOf(singleTransport(transport), target).apply(counted(file, 0));
    await hostOf(singleTransport(transport), target).apply(counted(file, 0));
    assert.equal(runs(file), 2);
    assert.equal(existsSync(path.join(dir, '.composure')), false);
  });

  it('builders pass values as parameters, never as script text', () => {
    const argv = superviseStart('/srv/app/.composure/runs/r/1-x-0', ['echo', '$(touch /tmp/pwned)', "it's"]);
    assert.equal(argv[0], 'sh');
    assert.ok(!argv[2]!.includes('pwned'));
    assert.deepEqual(argv.slice(-3), ['echo', '$(touch /tmp/pwned)', "it's"]);
    assert.throws(() => superviseWait('/srv/app/.composure/runs/r', 0, 10, 'short'), /trailer tag/);
    assert.throws(() => superviseStart('relative/dir', ['true']), /absolute path/);
  });
});

describe('timer heartbeats', () => {
  it('an activity heartbeats every second while a host command prints nothing', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(heartbeating(async () => transport.exec(['sleep', '3.2'])));
    assert.ok(beats.length >= 3, `heartbeats during a silent 3.2 s command: ${beats.length}`);
  });
});

function findRunDir(projectDir: string): string {
  const base = path.join(projectDir, '.composure/runs/run-1');
  const [entry] = readdirSync(base).filter((e) => !e.includes('unstarted'));
  assert.ok(entry, 'a run directory');
  return path.join(base, entry);
}
