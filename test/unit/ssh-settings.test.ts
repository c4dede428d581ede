/** SshTransport's timing settings are checked when it is made, before any connection. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SSH_DEFAULTS, SshTransport, type SshTarget } from '../../src/transport/ssh';

const target: SshTarget = { host: '203.0.113.7', port: 22, username: 'deploy', privateKey: 'unused', pinnedKeys: [] };

test('the defaults notice a dead peer within 8 s', () => {
  assert.equal(SSH_DEFAULTS.keepaliveIntervalMs * (SSH_DEFAULTS.keepaliveCountMax + 1), 8_000);
  assert.ok(SSH_DEFAULTS.channelOpenTimeoutMs > 8_000, 'the keepalive, which names the cause, fires first');
  assert.doesNotThrow(() => new SshTransport(target));
});

test('a keepalive count of 0 (every connection dropped after one interval) is refused, unless keepalives are off', () => {
  assert.throws(() => new SshTransport({ ...target, keepaliveCountMax: 0 }), /keepaliveCountMax must be a whole number of at least 1, got 0/);
  assert.throws(() => new SshTransport({ ...target, keepaliveCountMax: 1.5 }), RangeError);
  assert.doesNotThrow(() => new SshTransport({ ...target, keepaliveIntervalMs: 0, keepaliveCountMax: 0 }));
});

test('timeouts must be milliseconds', () => {
  assert.throws(() => new SshTransport({ ...target, connectTimeoutMs: -1 }), /connectTimeoutMs must be a number of milliseconds/);
  assert.throws(() => new SshTransport({ ...target, channelOpenTimeoutMs: Number.NaN }), /channelOpenTimeoutMs/);
  assert.throws(() => new SshTransport({ ...target, keepaliveIntervalMs: Infinity }), /keepaliveIntervalMs/);
});
