import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../src/transport/local';
import {
  CommandAbortedError,
  CommandFailedError,
  CommandTimeoutError,
  TransportError,
  runChecked,
} from '../../src/transport';

const local = new LocalTransport();

test('a non-zero exit code is returned, not thrown', async () => {
  const r = await local.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.truncated, false);
  assert.deepEqual(r.argv, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.ok(r.durationMs >= 0);
});

test('runChecked returns the result on exit 0', async () => {
  const r = await runChecked(local, ['printf', 'ok']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'ok');
});

test('runChecked throws CommandFailedError with the exit code and stderr tail', async () => {
  const argv = ['sh', '-c', 'echo starting; echo "disk full" >&2; exit 3'];
  await assert.rejects(runChecked(local, argv), (err: unknown) => {
    assert.ok(err instanceof CommandFailedError);
    assert.equal(err.name, 'CommandFailedError');
    assert.equal(err.code, 3);
    assert.equal(err.stderrTail, 'disk full');
    assert.deepEqual(err.argv, argv);
    assert.match(err.message, /exit code 3/);
    assert.match(err.message, /disk full/);
    return true;
  });
});

test('runChecked keeps only the end of a long stderr', async () => {
  const argv = ['sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo "noise line $i" >&2; i=$((i+1)); done; echo "the real error" >&2; exit 1'];
  await assert.rejects(runChecked(local, argv), (err: unknown) => {
    assert.ok(err instanceof CommandFailedError);
    assert.ok(err.stderrTail.length <= 2000, `tail is ${err.stderrTail.length} chars`);
    assert.ok(err.stderrTail.endsWith('noise line 499\nthe real error'));
    assert.doesNotMatch(err.stderrTail, /noise line 0\n/);
    return true;
  });
});

test('argv is passed without a shell', async () => {
  const hostile = ['a; echo pwned', '$(echo pwned)', '`echo pwned`', 'two words', '*', '$HOME', "'", ''];
  for (const arg of hostile) {
    const r = await local.exec(['printf', '%s', arg]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, arg, JSON.stringify(arg));
  }
});

test('cwd is honoured', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'composure-local-')));
  try {
    const r = await local.exec(['pwd', '-P'], { cwd: dir });
    assert.equal(r.stdout.trim(), dir);
    await local.exec(['touch', 'made-here'], { cwd: dir });
    assert.ok(existsSync(join(dir, 'made-here')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('timeoutMs stops a long command with CommandTimeoutError', async () => {
  const started = Date.now();
  await assert.rejects(local.exec(['sleep', '5'], { timeoutMs: 200 }), (err: unknown) => {
    assert.ok(err instanceof CommandTimeoutError);
    assert.ok(err instanceof TransportError);
    assert.match(err.message, /200 ms/);
    return true;
  });
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('an AbortSignal stops a running command with CommandAbortedError', async () => {
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(local.exec(['sleep', '5'], { signal: controller.signal }), CommandAbortedError);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('an already-aborted signal does not start the command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'composure-local-'));
  try {
    await assert.rejects(local.exec(['touch', 'ran'], { cwd: dir, signal: AbortSignal.abort() }), CommandAbortedError);
    assert.equal(existsSync(join(dir, 'ran')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('maxOutputBytes keeps the tail of the output and marks it truncated', async () => {
  const script = 'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done';
  let full = '';
  for (let i = 0; i < 1000; i++) full += `line ${i}\n`;
  const r = await local.exec(['sh', '-c', script], { maxOutputBytes: 100 });
  assert.equal(r.code, 0);
  assert.equal(r.truncated, true);
  assert.equal(r.stdout, full.slice(-100));

  const whole = await local.exec(['sh', '-c', script]);
  assert.equal(whole.truncated, false);
  assert.equal(whole.stdout, full);
});

test('onOutput receives every chunk, labelled by stream', async () => {
  const seen: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const r = await local.exec(['sh', '-c', 'echo one; echo warn >&2; sleep 0.05; echo two'], {
    onOutput: (chunk, stream) => {
      seen[stream] += chunk;
    },
  });
  assert.equal(seen.stdout, 'one\ntwo\n');
  assert.equal(seen.stderr, 'warn\n');
  assert.equal(r.stdout, seen.stdout);
});

test('a program that does not exist rejects with TransportError', async () => {
  await assert.rejects(local.exec(['/nonexistent/composure-no-such-program']), (err: unknown) => {
    assert.ok(err instanceof TransportError);
    assert.match(err.message, /cannot run \/nonexistent\/composure-no-such-program/);
    return true;
  });
});

test('an empty argv is rejected', async () => {
  await assert.rejects(local.exec([]), TypeError);
});
