/**
 * The host lock's scripts, run by a real `sh` with util-linux `flock` in a
 * temp directory: taking, refusing, compare-and-swap, the guard under a race
 * of processes, hostile content kept as data. And the rule for when a lock
 * is stale.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { acquireLockCommand, LOCK_EXIT, parseLockView, readLockCommand, swapLockCommand } from '../../src/commands/lock';
import { shellJoin } from '../../src/commands/quote';
import type { LockHolder } from '../../src/deploy/types';
import { judgeLock, readLock, swapLock, tryAcquireLock, type Exec, type HeldLock, type HolderRun } from '../../src/host/lock';
import { LocalTransport } from '../../src/transport/local';

const local = new LocalTransport();
const exec: Exec = (argv) => local.exec(argv, { timeoutMs: 60_000 });
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'composure-lock-')));
after(() => rmSync(root, { recursive: true, force: true }));

let projects = 0;
function project(): string {
  const dir = path.join(root, `p${++projects}`);
  mkdirSync(dir);
  return dir;
}

const holder = (deployId: string, extra: Partial<LockHolder> = {}): LockHolder => ({
  deployId,
  workflowId: `composure-deploy-${deployId}`,
  runId: `run-${deployId}`,
  ref: 'v2',
  startedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});
const holderFile = (dir: string) => path.join(dir, '.composure/lock/holder.json');
const where = (dir: string) => ({ environment: 'prod', directory: dir });

describe('lock scripts', () => {
  test('a free lock is taken with its holder in one step; a second deploy sees that holder', async () => {
    const dir = project();
    assert.equal(await readLock(exec, dir), undefined, 'no state directory: free');
    assert.equal(await tryAcquireLock(exec, dir, holder('d1')), undefined);
    assert.deepEqual(JSON.parse(readFileSync(holderFile(dir), 'utf8')), holder('d1'));
    const seen = await tryAcquireLock(exec, dir, holder('d2'));
    assert.equal(seen?.holder?.deployId, 'd1');
    assert.equal(seen?.content, JSON.stringify(holder('d1')));
    assert.ok(seen!.ageSeconds >= 0 && seen!.ageSeconds < 60, String(seen?.ageSeconds));
    // The same record again (a retried activity) is this deploy's own lock.
    assert.equal(await tryAcquireLock(exec, dir, holder('d1')), undefined);
  });

  test('under a race of 20 processes, exactly one takes the lock', async () => {
    const dir = project();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => exec(acquireLockCommand(dir, JSON.stringify(holder(`r${i}`))))));
    const codes = results.map((r) => r.code);
    assert.equal(codes.filter((c) => c === 0).length, 1, codes.join(','));
    assert.equal(codes.filter((c) => c === LOCK_EXIT.held).length, 19, codes.join(','));
    const winner = results.findIndex((r) => r.code === 0);
    assert.equal(JSON.parse(readFileSync(holderFile(dir), 'utf8')).deployId, `r${winner}`);
  });

  test('a takeover happens only if the lock is still exactly as judged', async () => {
    const dir = project();
    await tryAcquireLock(exec, dir, holder('old'));
    const judged = (await readLock(exec, dir))!;
    // Meanwhile another deploy took the stale lock over.
    assert.deepEqual(await swapLock(exec, dir, judged, { mode: 'take', record: JSON.stringify(holder('fast')) }), { done: true });
    const late = await swapLock(exec, dir, judged, { mode: 'take', record: JSON.stringify(holder('late')) });
    assert.equal(late.done, false);
    assert.equal(!late.done && !late.gone && late.now.holder?.deployId, 'fast', 'the late racer sees the new holder and must judge again');
    assert.equal(JSON.parse(readFileSync(holderFile(dir), 'utf8')).deployId, 'fast');
  });

  test('twenty racers judging the same stale lock: exactly one takes it over', async () => {
    const dir = project();
    await tryAcquireLock(exec, dir, holder('ghost'));
    const judged = (await readLock(exec, dir))!;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => swapLock(exec, dir, judged, { mode: 'take', record: JSON.stringify(holder(`t${i}`)) })));
    assert.equal(results.filter((r) => r.done).length, 1);
  });

  test('release and rewrite are compare-and-swap too; a missing lock is "gone"', async () => {
    const dir = project();
    await tryAcquireLock(exec, dir, holder('d1'));
    const seen = (await readLock(exec, dir))!;
    const failed = JSON.stringify(holder('d1', { state: 'failed_compensation', reason: 'client: undo failed' }));
    assert.deepEqual(await swapLock(exec, dir, seen, { mode: 'rewrite', record: failed }), { done: true });
    assert.equal((await readLock(exec, dir))?.holder?.state, 'failed_compensation');
    assert.equal((await swapLock(exec, dir, seen, { mode: 'release' })).done, false, 'the release names the record before the rewrite');
    assert.deepEqual(await swapLock(exec, dir, (await readLock(exec, dir))!, { mode: 'release' }), { done: true });
    assert.equal(await readLock(exec, dir), undefined);
    assert.deepEqual(await swapLock(exec, dir, seen, { mode: 'release' }), { done: false, gone: true });
  });

  test('a holderless lock shows as missing; a takeover checks its age on the host', async () => {
    const dir = project();
    mkdirSync(path.join(dir, '.composure/lock'), { recursive: true });
    const seen = (await readLock(exec, dir))!;
    assert.deepEqual([seen.content, seen.holder], [undefined, undefined]);
    const tooYoung = await swapLock(exec, dir, seen, { mode: 'take', record: JSON.stringify(holder('d1')), minAgeSeconds: 300 });
    assert.equal(tooYoung.done, false);
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    utimesSync(path.join(dir, '.composure/lock'), tenMinutesAgo, tenMinutesAgo);
    const old = (await readLock(exec, dir))!;
    assert.ok(old.ageSeconds >= 599, String(old.ageSeconds));
    assert.deepEqual(await swapLock(exec, dir, old, { mode: 'take', record: JSON.stringify(holder('d1')), minAgeSeconds: 300 }), { done: true });
    assert.equal(JSON.parse(readFileSync(holderFile(dir), 'utf8')).deployId, 'd1');
  });

  test('an unreadable holder file is compared as it was read', async () => {
    const dir = project();
    mkdirSync(path.join(dir, '.composure/lock'), { recursive: true });
    writeFileSync(holderFile(dir), '{"deployId": trunc');
    const seen = (await readLock(exec, dir))!;
    assert.equal(seen.content, '{"deployId": trunc');
    assert.equal(seen.holder, undefined);
  });

  test('hostile content is data, through the SSH quoting too', async () => {
    const dir = project();
    const hostile = holder('d1', { ref: `'; touch ${dir}/pwned; echo "$(id)" \`id\` \\ %s %n` });
    const argv = acquireLockCommand(dir, JSON.stringify(hostile));
    const result = await local.exec(['sh', '-c', shellJoin(argv)], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(readFileSync(holderFile(dir), 'utf8')), hostile);
    assert.throws(() => execFileSync('test', ['-e', `${dir}/pwned`]));
    assert.throws(() => acquireLockCommand('relative/dir', '{}'), /absolute path/);
    assert.throws(() => acquireLockCommand(dir, '{}\n{}'), /one line/);
    assert.throws(() => readLockCommand('/srv/app; rm -rf /'), /absolute path/);
    assert.throws(() => swapLockCommand(dir, 'x', { mode: 'take', record: '{}', minAgeSeconds: -1 }), /whole number/);
  });

  test('the output of the scripts parses; anything else is an error', () => {
    assert.deepEqual(parseLockView('free\n'), { state: 'free' });
    assert.deepEqual(parseLockView('held 12 missing\n'), { state: 'held', ageSeconds: 12, content: undefined });
    assert.deepEqual(parseLockView('held 3 present\n{"a":1}\n\nx'), { state: 'held', ageSeconds: 3, content: '{"a":1}\n\nx' });
    assert.throws(() => parseLockView('sh: flock: not found'), /unexpected output/);
  });
});

describe('when a lock is stale', () => {
  const lock = (h: LockHolder | undefined, ageSeconds = 10): HeldLock => ({ ageSeconds, content: h && JSON.stringify(h), holder: h });
  const run = (status: string, outcome?: string) => async (): Promise<HolderRun> => ({ status, outcome });
  const ours = { deployId: 'dnew' };

  test('a holder whose run is running holds; one that ended or that Temporal does not know is stale', async () => {
    assert.equal((await judgeLock(lock(holder('d1')), ours, run('RUNNING'), where('/srv/app'))).kind, 'held');
    assert.equal((await judgeLock(lock(holder('d1')), ours, run('COMPLETED', 'succeeded'), where('/srv/app'))).kind, 'stale');
    assert.equal((await judgeLock(lock(holder('d1')), ours, run('NOT_FOUND'), where('/srv/app'))).kind, 'stale');
    assert.equal((await judgeLock(lock(holder('dnew')), ours, run('RUNNING'), where('/srv/app'))).kind, 'ours');
  });

  test('Temporal unreachable decides nothing', async () => {
    await assert.rejects(
      judgeLock(lock(holder('d1')), ours, () => Promise.reject(new Error('14 UNAVAILABLE')), where('/srv/app')),
      /UNAVAILABLE/,
    );
  });

  test('a failed compensation is never stale, and says how to release it', async () => {
    const failed = holder('d1', { state: 'failed_compensation', reason: 'client: no space left' });
    const verdict = await judgeLock(lock(failed, 86_400), ours, run('COMPLETED', 'failed_compensation'), where('/srv/app'));
    assert.equal(verdict.kind, 'held');
    assert.match(verdict.kind === 'held' ? verdict.message : '', /client: no space left.*composure lock release prod/);
    // Not marked (the marking failed), but the run's outcome says it.
    const unmarked = await judgeLock(lock(holder('d1')), ours, run('COMPLETED', 'failed_compensation'), where('/srv/app'));
    assert.match(unmarked.kind === 'held' ? unmarked.message : '', /failed_compensation.*composure lock release prod/);
  });

  test('a missing or unreadable holder is respected for the grace period, then stale (checked again on the host)', async () => {
    const young = await judgeLock(lock(undefined, 299), ours, run('NOT_FOUND'), where('/srv/app'));
    assert.equal(young.kind, 'held');
    assert.match(young.kind === 'held' ? young.message : '', /no readable holder record.*300s/);
    assert.deepEqual(await judgeLock(lock(undefined, 300), ours, run('NOT_FOUND'), where('/srv/app')), { kind: 'stale', minAgeSeconds: 300, why: 'no readable holder record for 300s' });
  });
});
