/**
 * The SSH transport against the rig's real sshd: exit codes, timeouts and
 * aborts that really end the remote command, the output cap, one reused
 * connection per host, and a reconnect after the connection drops.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandAbortedError, CommandTimeoutError, ConnectionError, runChecked, CommandFailedError, type Transport } from '../../src/transport';
import { loadRig, rigSshTransport } from '../support/rig';

const rig = loadRig();
const transport = rigSshTransport();
after(() => transport.close());

/** Processes of the deploy user whose command line contains `pattern`. */
function remoteProcesses(pattern: string): string[] {
  const out = execFileSync('sh', ['-c', `pgrep -u deploy -f ${JSON.stringify(pattern)} || true`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

/** The pid of the deploy user's sshd process that serves `transport`'s connection: the nearest sshd above a command run through it. */
async function sshdServing(transport: Transport): Promise<number> {
  const script = 'p=$$; while [ "$p" -gt 1 ]; do [ "$(cat /proc/$p/comm)" = sshd ] && { echo "$p"; exit 0; }; p=$(cut -d" " -f4 "/proc/$p/stat"); done; exit 1';
  const pid = Number((await runChecked(transport, ['sh', '-c', script])).stdout.trim());
  assert.ok(Number.isInteger(pid) && pid > 1, `an sshd pid, got ${pid}`);
  return pid;
}

/** Waits on a condition rather than a clock: a loaded machine may take longer, a fast one need not wait. */
async function until(condition: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${limitMs} ms: ${what}`);
    await sleep(50);
  }
}

const exited = (pid: number) => () => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

function acceptedLogins(): number {
  return readFileSync(`${rig.rigDir}/logs/sshd.log`, 'utf8').split('\n').filter((l) => l.includes('Accepted publickey for deploy')).length;
}

describe('SSH transport on the rig', () => {
  it('returns exit codes, stdout and stderr; runChecked throws on non-zero', async () => {
    const result = await transport.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(result.code, 7);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
    await assert.rejects(runChecked(transport, ['false']), CommandFailedError);
  });

  it('passes hostile argv through the remote shell literally, and honours cwd', async () => {
    const values = ['a b', '$(id)', '`id`', "it's", 'x; echo pwned', '-n', 'é ✓'];
    const result = await transport.exec(['printf', '%s\\n', ...values]);
    assert.deepEqual(result.stdout.split('\n').slice(0, -1), values);
    const pwd = await transport.exec(['pwd'], { cwd: rig.stacks.traefik.dir });
    assert.equal(pwd.stdout.trim(), rig.stacks.traefik.dir);
  });

  it('a timeout ends the remote command', async () => {
    const started = Date.now();
    await assert.rejects(transport.exec(['sleep', '41'], { timeoutMs: 500 }), CommandTimeoutError);
    assert.ok(Date.now() - started < 3_000);
    await until(() => remoteProcesses('sleep 41').length === 0, 5_000, 'the remote sleep is gone');
  });

  it('an AbortSignal closes the channel and the remote command ends', async () => {
    const controller = new AbortController();
    const running = transport.exec(['sleep', '42'], { signal: controller.signal });
    await until(() => remoteProcesses('sleep 42').length === 1, 5_000, 'the command really runs on the host');
    controller.abort();
    await assert.rejects(running, CommandAbortedError);
    await until(() => remoteProcesses('sleep 42').length === 0, 5_000, 'the remote sleep is gone');
  });

  it('keeps only the tail of a large output', async () => {
    const result = await transport.exec(['sh', '-c', 'seq 1 200000'], { maxOutputBytes: 1000 });
    assert.equal(result.truncated, true);
    assert.ok(result.stdout.length <= 1000);
    assert.ok(result.stdout.endsWith('199999\n200000\n'));
  });

  it('a command in flight when the server drops the connection fails at once with ConnectionError', async () => {
    const fresh = rigSshTransport();
    try {
      const sshd = await sshdServing(fresh);
      const running = fresh.exec(['sleep', '43']);
      await until(() => remoteProcesses('sleep 43').length === 1, 5_000, 'the command runs on the host');
      const dropped = performance.now();
      process.kill(sshd, 'SIGTERM');
      await assert.rejects(running, (err: unknown) => {
        assert.ok(err instanceof ConnectionError, String(err));
        assert.match(err.message, /connection lost while running sleep 43/);
        return true;
      });
      assert.ok(performance.now() - dropped < 2_000, 'not after its own timeout');
      assert.equal((await fresh.exec(['echo', 'again'])).stdout, 'again\n');
    } finally {
      await fresh.close();
    }
  });

  it('reuses one connection for many commands, and reconnects after it drops', async () => {
    const fresh = rigSshTransport();
    try {
      const before = acceptedLogins();
      await Promise.all(Array.from({ length: 8 }, (_, i) => fresh.exec(['echo', String(i)])));
      for (let i = 0; i < 4; i++) await fresh.exec(['true']);
      assert.equal(acceptedLogins() - before, 1, 'one login for twelve commands');
      // Drop the connection from the server side: the sshd process serving this
      // connection only (other tests on the machine hold their own sessions).
      const serving = await sshdServing(fresh);
      process.kill(serving, 'SIGTERM');
      await until(exited(serving), 5_000, 'the sshd process serving the connection is gone');
      const after = await fresh.exec(['echo', 'again']);
      assert.equal(after.stdout, 'again\n');
      assert.equal(acceptedLogins() - before, 2, 'a new login after the drop');
    } finally {
      await fresh.close();
    }
  });
});
