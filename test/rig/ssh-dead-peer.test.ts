/**
 * The SSH transport notices a dead peer: through a TCP proxy in front of the
 * rig's sshd that goes silent (no FIN, no RST), commands in flight fail with
 * the retryable ConnectionError within a bound, the next command reconnects
 * on the same transport, a connect to a silent server fails within its
 * timeout, and keepalives leave an idle healthy connection alone. The host
 * key seen through the proxy is still checked against the rig's pinned key.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError, HostKeyVerificationError, type SshTransport } from '../../src/transport';
import { SSH_DEFAULTS } from '../../src/transport/ssh';
import { loadRig, rigPinnedKeys, rigSshTransport } from '../support/rig';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const rig = loadRig();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A proxy in front of the rig's sshd, and a transport through it (default timings unless given). */
async function throughProxy(timings: Parameters<typeof rigSshTransport>[0] = {}): Promise<{ proxy: TcpProxy; transport: SshTransport }> {
  const proxy = await startTcpProxy({ host: rig.ssh.host, port: rig.ssh.port });
  cleanups.push(() => proxy.close());
  const transport = rigSshTransport({ ...timings, port: proxy.port, pinnedKeys: rigPinnedKeys(rig) });
  cleanups.push(() => transport.close());
  return { proxy, transport };
}

/** Milliseconds until `promise` settles, and how it settled. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/**
 * Runs `sh -c 'echo started; SCRIPT'` and resolves `started` once the host printed it: the
 * command is running on the far side (a condition, not a guess at how long a login takes).
 */
function runningOnHost(transport: SshTransport, script: string) {
  let started!: () => void;
  const onHost = new Promise<void>((resolve) => (started = resolve));
  const result = transport.exec(['sh', '-c', `echo started; ${script}`], {
    onOutput: (chunk) => {
      if (chunk.includes('started')) started();
    },
  });
  // A failure before the output is the test's to see through `result`.
  return { started: Promise.race([onHost, result.then(() => undefined, () => undefined)]), result, what: `sh -c echo started; ${script}` };
}

const defaultBoundMs = SSH_DEFAULTS.keepaliveIntervalMs * (SSH_DEFAULTS.keepaliveCountMax + 1);
// Undetected, a dead peer would hold a test until the command's own 10-minute timeout.
const timeout = 30_000;

describe('SSH transport and a dead peer (through a TCP proxy)', () => {
  it('commands in flight when the link goes silent fail with ConnectionError within the keepalive bound', { timeout }, async (t: TestContext) => {
    const { proxy, transport } = await throughProxy();
    assert.equal((await transport.exec(['echo', 'up'])).stdout, 'up\n');
    const long = runningOnHost(transport, 'exec sleep 30');
    const other = runningOnHost(transport, 'sleep 30; echo never');
    await Promise.all([long.started, other.started]);
    proxy.blackhole();
    const [a, b] = await Promise.all([timed(long.result), timed(other.result)]);
    t.diagnostic(`detected after ${Math.round(a.ms)} ms and ${Math.round(b.ms)} ms (at most ${defaultBoundMs} ms)`);
    for (const [r, what] of [
      [a, long.what],
      [b, other.what],
    ] as const) {
      assert.ok(r.error instanceof ConnectionError, `a ConnectionError, not ${String(r.error ?? 'a result')}`);
      assert.equal(r.error.name, 'ConnectionError', 'the name retry policies match');
      assert.match(r.error.message, new RegExp(`127\\.0\\.0\\.1:${proxy.port}: connection lost while running ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the peer went silent`));
      assert.ok(r.ms < 15_000, `failed within 15 s (took ${Math.round(r.ms)} ms)`);
    }
    // Both went with the connection, not one by one.
    assert.ok(Math.abs(a.ms - b.ms) < 500);
  });

  it('the next command on the same transport reconnects once the link is back', { timeout }, async (t: TestContext) => {
    const { proxy, transport } = await throughProxy();
    await transport.exec(['true']);
    assert.equal(proxy.connections, 1);
    const running = runningOnHost(transport, 'exec sleep 30');
    await running.started;
    proxy.blackhole();
    await assert.rejects(running.result, ConnectionError);
    proxy.resume();
    const again = await timed(transport.exec(['echo', 'again']));
    t.diagnostic(`first command after the outage took ${Math.round(again.ms)} ms (includes the new login)`);
    assert.equal(again.value?.stdout, 'again\n');
    assert.equal(proxy.connections, 2, 'a new connection, not the dead one');
    await transport.exec(['true']);
    assert.equal(proxy.connections, 2, 'which is then reused');
  });

  it('a connect to a server that never speaks fails with ConnectionError within the connect timeout', { timeout }, async (t: TestContext) => {
    const connectTimeoutMs = 3_000;
    const { proxy, transport } = await throughProxy({ connectTimeoutMs });
    proxy.blackhole();
    const r = await timed(transport.exec(['true']));
    t.diagnostic(`connect gave up after ${Math.round(r.ms)} ms (timeout ${connectTimeoutMs} ms)`);
    assert.ok(r.error instanceof ConnectionError, `a ConnectionError, not ${String(r.error ?? 'a result')}`);
    assert.match(r.error.message, /cannot connect to ssh deploy@127\.0\.0\.1:\d+: Timed out while waiting for handshake/);
    assert.ok(r.ms >= connectTimeoutMs - 100 && r.ms < connectTimeoutMs + 2_000, `took ${Math.round(r.ms)} ms`);
    assert.equal(proxy.connections, 1);
    // The failed attempt is not cached: once the server is reachable, the same transport connects.
    proxy.resume();
    assert.equal((await transport.exec(['echo', 'ok'])).stdout, 'ok\n');
    assert.equal(proxy.connections, 2);
  });

  it('a channel that never opens fails with ConnectionError within the channel-open timeout, and the connection is replaced', { timeout }, async (t: TestContext) => {
    // Keepalives off, so the channel-open timeout is the only thing that can notice.
    const channelOpenTimeoutMs = 1_500;
    const { proxy, transport } = await throughProxy({ keepaliveIntervalMs: 0, channelOpenTimeoutMs });
    await transport.exec(['true']);
    proxy.blackhole();
    const r = await timed(transport.exec(['echo', 'never']));
    t.diagnostic(`channel open gave up after ${Math.round(r.ms)} ms (timeout ${channelOpenTimeoutMs} ms)`);
    assert.ok(r.error instanceof ConnectionError, `a ConnectionError, not ${String(r.error ?? 'a result')}`);
    assert.match(r.error.message, /no channel opened within 1500 ms for echo never/);
    assert.ok(r.ms < channelOpenTimeoutMs + 1_000, `took ${Math.round(r.ms)} ms`);
    proxy.resume();
    assert.equal((await transport.exec(['echo', 'back'])).stdout, 'back\n');
    assert.equal(proxy.connections, 2);
  });

  it('the host key seen through the proxy is still checked against the pinned one', { timeout }, async () => {
    const proxy = await startTcpProxy({ host: rig.ssh.host, port: rig.ssh.port });
    cleanups.push(() => proxy.close());
    const nothingPinned = rigSshTransport({ port: proxy.port, pinnedKeys: [] });
    cleanups.push(() => nothingPinned.close());
    await assert.rejects(nothingPinned.exec(['true']), HostKeyVerificationError);
  });

  it('an outage shorter than the keepalive bound is ridden out: the command finishes on the same connection', { timeout }, async () => {
    const { proxy, transport } = await throughProxy();
    const running = runningOnHost(transport, 'sleep 4; echo done');
    await running.started;
    proxy.blackhole();
    // The outage itself: 3 s, inside the keepalive bound (a clock on purpose, the scenario's length).
    await sleep(3_000);
    proxy.resume();
    assert.equal((await running.result).stdout, 'started\ndone\n');
    assert.equal(proxy.connections, 1);
  });

  it('keepalives do not end an idle, healthy connection', { timeout }, async () => {
    const { proxy, transport } = await throughProxy();
    await transport.exec(['true']);
    // Idle for longer than the keepalive bound (a clock on purpose: the scenario is the idle time).
    // A broken keepalive (pings unanswered or miscounted) would have dropped the connection by now.
    await sleep(Math.max(10_000, defaultBoundMs + 2_000));
    assert.equal((await transport.exec(['echo', 'still'])).stdout, 'still\n');
    assert.equal(proxy.connections, 1, 'the same connection');
  });
});
