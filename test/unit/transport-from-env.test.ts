import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transportFromEnv } from '../../worker/transport-from-env';
import { LocalTransport, SshTransport } from '../../src/transport';
import { InvalidValueError } from '../../src/commands/validate';

const keyB64 = Buffer.from('ssh-ed25519 pinned test key').toString('base64');

/** A temp dir holding a known_hosts pinning 127.0.0.1:2222 and example.com:22, and a key file. */
function withFiles(fn: (files: { knownHosts: string; keyFile: string; dir: string }) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'composure-env-'));
  try {
    const knownHosts = join(dir, 'known_hosts');
    const keyFile = join(dir, 'id_ed25519');
    writeFileSync(knownHosts, `[127.0.0.1]:2222 ssh-ed25519 ${keyB64}\nexample.com ssh-ed25519 ${keyB64}\n`);
    // Never parsed: constructing the transport does not connect.
    writeFileSync(keyFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n');
    fn({ knownHosts, keyFile, dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('local when no ssh host is configured', () => {
  const t = transportFromEnv({});
  assert.ok(t instanceof LocalTransport);
  assert.equal(t.description, 'local');
});

test('COMPOSURE_TRANSPORT=local wins over a configured ssh host', () => {
  assert.ok(transportFromEnv({ COMPOSURE_TRANSPORT: 'local', COMPOSURE_SSH_HOST: 'example.com' }) instanceof LocalTransport);
});

test('an unknown COMPOSURE_TRANSPORT is rejected, naming the variable', () => {
  assert.throws(() => transportFromEnv({ COMPOSURE_TRANSPORT: 'telnet' }), /COMPOSURE_TRANSPORT.*"telnet"/);
});

test('ssh without a host is rejected, naming COMPOSURE_SSH_HOST', () => {
  assert.throws(() => transportFromEnv({ COMPOSURE_TRANSPORT: 'ssh' }), /COMPOSURE_SSH_HOST is required/);
});

test('ssh without COMPOSURE_SSH_KNOWN_HOSTS is rejected, naming the variable', () => {
  withFiles(({ keyFile }) => {
    assert.throws(
      () => transportFromEnv({ COMPOSURE_SSH_HOST: 'example.com', COMPOSURE_SSH_KEY_FILE: keyFile }),
      /COMPOSURE_SSH_KNOWN_HOSTS is required/,
    );
  });
});

test('ssh without COMPOSURE_SSH_KEY_FILE is rejected, naming the variable', () => {
  withFiles(({ knownHosts }) => {
    assert.throws(
      () => transportFromEnv({ COMPOSURE_SSH_HOST: 'example.com', COMPOSURE_SSH_KNOWN_HOSTS: knownHosts }),
      /COMPOSURE_SSH_KEY_FILE is required/,
    );
  });
});

test('a known_hosts file with no key for the host is rejected, naming the file and host:port', () => {
  withFiles(({ knownHosts, keyFile }) => {
    const env = { COMPOSURE_SSH_HOST: '127.0.0.1', COMPOSURE_SSH_KNOWN_HOSTS: knownHosts, COMPOSURE_SSH_KEY_FILE: keyFile };
    // Pinned for port 2222 only: the default port 22 and another port have no key.
    for (const [port, shown] of [[undefined, '127.0.0.1:22'], ['2223', '127.0.0.1:2223']] as const) {
      assert.throws(
        () => transportFromEnv({ ...env, COMPOSURE_SSH_PORT: port }),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.ok(err.message.includes(knownHosts), err.message);
          assert.ok(err.message.includes(shown), err.message);
          return true;
        },
      );
    }
    assert.throws(() => transportFromEnv({ ...env, COMPOSURE_SSH_HOST: 'unknown.example' }), /unknown\.example:22/);
  });
});

test('a bad port is rejected, naming COMPOSURE_SSH_PORT', () => {
  withFiles(({ knownHosts, keyFile }) => {
    for (const port of ['0', '65536', '-1', 'abc', '22.5', '']) {
      assert.throws(
        () =>
          transportFromEnv({
            COMPOSURE_SSH_HOST: '127.0.0.1',
            COMPOSURE_SSH_PORT: port,
            COMPOSURE_SSH_KNOWN_HOSTS: knownHosts,
            COMPOSURE_SSH_KEY_FILE: keyFile,
          }),
        /COMPOSURE_SSH_PORT is not a port/,
        JSON.stringify(port),
      );
    }
  });
});

test('a good config gives an ssh transport described as ssh user@host:port, without connecting', () => {
  withFiles(({ knownHosts, keyFile }) => {
    const base = { COMPOSURE_SSH_KNOWN_HOSTS: knownHosts, COMPOSURE_SSH_KEY_FILE: keyFile };
    const t = transportFromEnv({ ...base, COMPOSURE_SSH_HOST: '127.0.0.1', COMPOSURE_SSH_PORT: '2222' });
    assert.ok(t instanceof SshTransport);
    assert.equal(t.description, 'ssh deploy@127.0.0.1:2222');

    const custom = transportFromEnv({ ...base, COMPOSURE_TRANSPORT: 'ssh', COMPOSURE_SSH_HOST: 'example.com', COMPOSURE_SSH_USER: 'ops' });
    assert.ok(custom instanceof SshTransport);
    assert.equal(custom.description, 'ssh ops@example.com:22');
  });
});

test('a hostile host or user is refused by the same grammars composure.yml uses', () => {
  withFiles(({ knownHosts, keyFile }) => {
    const env = { COMPOSURE_SSH_KNOWN_HOSTS: knownHosts, COMPOSURE_SSH_KEY_FILE: keyFile };
    assert.throws(() => transportFromEnv({ ...env, COMPOSURE_SSH_HOST: '-oProxyCommand=sh' }), InvalidValueError);
    assert.throws(() => transportFromEnv({ ...env, COMPOSURE_SSH_HOST: '127.0.0.1', COMPOSURE_SSH_PORT: '2222', COMPOSURE_SSH_USER: 'deploy;id' }), InvalidValueError);
  });
});
