import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, knownHostsName, parsePublicKeyLine, pinnedKeysFor } from '../../src/transport/known-hosts';

// Distinct fake key blobs; pinnedKeysFor only decodes base64, it does not parse keys.
const blob = (name: string) => Buffer.from(`ssh-ed25519 blob for ${name}`);
const b64 = (name: string) => blob(name).toString('base64');
/** The names of the keys found, recovered from their blobs. */
const found = (text: string, host: string, port: number) =>
  pinnedKeysFor(text, host, port).map((k) => k.blob.toString().replace('ssh-ed25519 blob for ', ''));

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'composure-kh-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function keygen(dir: string, name: string): string {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

test('knownHostsName: bare for port 22, [host]:port otherwise', () => {
  assert.equal(knownHostsName('example.com', 22), 'example.com');
  assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
});

test('a plain host entry pins its key type and blob, for port 22 only', () => {
  const text = `example.com ssh-ed25519 ${b64('a')} comment here\n`;
  assert.deepEqual(pinnedKeysFor(text, 'example.com', 22), [{ keyType: 'ssh-ed25519', blob: blob('a') }]);
  assert.deepEqual(pinnedKeysFor(text, 'example.com', 2222), []);
  assert.deepEqual(pinnedKeysFor(text, 'other.com', 22), []);
  assert.deepEqual(pinnedKeysFor(text, 'example.co', 22), []);
});

test('[host]:port entries match that port only', () => {
  const text = [`[example.com]:2222 ssh-ed25519 ${b64('p2222')}`, `[example.com]:22 ssh-ed25519 ${b64('p22-bracketed')}`].join('\n');
  assert.deepEqual(found(text, 'example.com', 2222), ['p2222']);
  assert.deepEqual(found(text, 'example.com', 2223), []);
  // OpenSSH writes port 22 bare, and looks it up bare.
  assert.deepEqual(found(text, 'example.com', 22), []);
});

test('comma lists, several keys per host, comments and blank lines', () => {
  const text = [
    '# pinned out of band',
    '',
    '   ',
    `web1.lan,10.0.0.5,[10.0.0.5]:2222 ssh-ed25519 ${b64('web1')}`,
    `  # indented comment ssh-ed25519 ${b64('commented')}`,
    `web1.lan ecdsa-sha2-nistp256 ${b64('web1-ecdsa')}`,
    `web2.lan ssh-ed25519 ${b64('web2')}\r`,
    '',
  ].join('\n');
  assert.deepEqual(found(text, 'web1.lan', 22), ['web1', 'web1-ecdsa']);
  assert.deepEqual(found(text, '10.0.0.5', 22), ['web1']);
  assert.deepEqual(found(text, '10.0.0.5', 2222), ['web1']);
  assert.deepEqual(found(text, 'web2.lan', 22), ['web2']);
  assert.deepEqual(
    pinnedKeysFor(text, 'web1.lan', 22).map((k) => k.keyType),
    ['ssh-ed25519', 'ecdsa-sha2-nistp256'],
  );
});

test('* and ? wildcards; other characters are literal', () => {
  const text = [
    `*.example.com ssh-ed25519 ${b64('star')}`,
    `host?.lan ssh-ed25519 ${b64('question')}`,
    `a.b ssh-ed25519 ${b64('dot')}`,
    `[*.example.com]:2222 ssh-ed25519 ${b64('star-port')}`,
  ].join('\n');
  assert.deepEqual(found(text, 'web.example.com', 22), ['star']);
  assert.deepEqual(found(text, 'example.com', 22), []);
  assert.deepEqual(found(text, 'web.example.com', 2222), ['star-port']);
  assert.deepEqual(found(text, 'host1.lan', 22), ['question']);
  assert.deepEqual(found(text, 'host12.lan', 22), []);
  assert.deepEqual(found(text, 'host.lan', 22), []);
  // "." is not a regex wildcard.
  assert.deepEqual(found(text, 'a.b', 22), ['dot']);
  assert.deepEqual(found(text, 'axb', 22), []);
});

test('a negated pattern excludes a host that another pattern matches', () => {
  const text = [`*.example.com,!bad.example.com ssh-ed25519 ${b64('fleet')}`, `!lonely.lan ssh-ed25519 ${b64('negation-only')}`].join('\n');
  assert.deepEqual(found(text, 'good.example.com', 22), ['fleet']);
  assert.deepEqual(found(text, 'bad.example.com', 22), []);
  // A negation alone matches nothing, for the named host or any other.
  assert.deepEqual(found(text, 'lonely.lan', 22), []);
  assert.deepEqual(found(text, 'other.lan', 22), []);
});

test('@cert-authority and @revoked lines are not pins', () => {
  const text = [`@cert-authority *.example.com ssh-ed25519 ${b64('ca')}`, `@revoked web.example.com ssh-ed25519 ${b64('old')}`].join('\n');
  assert.deepEqual(found(text, 'web.example.com', 22), []);
});

test('a key marked @revoked for the host is not pinned even if a plain line lists it', () => {
  const text = [
    `web.example.com ssh-ed25519 ${b64('old')}`,
    `web.example.com ssh-ed25519 ${b64('new')}`,
    `@revoked web.example.com ssh-ed25519 ${b64('old')}`,
    // A revocation for another host does not touch this one.
    `@revoked other.example.com ssh-ed25519 ${b64('new')}`,
  ].join('\n');
  assert.deepEqual(found(text, 'web.example.com', 22), ['new']);
});

test('a host with no entry, or empty text, has no pinned keys', () => {
  assert.deepEqual(pinnedKeysFor('', 'example.com', 22), []);
  assert.deepEqual(pinnedKeysFor(`other.com ssh-ed25519 ${b64('x')}\n`, 'example.com', 22), []);
  // Lines missing the key are skipped, not half-parsed.
  assert.deepEqual(pinnedKeysFor('example.com ssh-ed25519\nexample.com\n', 'example.com', 22), []);
});

test('hashed entries (ssh-keygen -H) are found for the right host and port only', () => {
  withTempDir((dir) => {
    const key2222 = keygen(dir, 'k');
    const key22 = keygen(dir, 'k22');
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `[127.0.0.1]:2222 ${key2222}\n127.0.0.1 ${key22}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const hashed = readFileSync(file, 'utf8');
    assert.doesNotMatch(hashed, /127\.0\.0\.1/, 'ssh-keygen -H hashed the names');
    assert.match(hashed, /^\|1\|/);

    const pin2222 = parsePublicKeyLine(key2222);
    const pin22 = parsePublicKeyLine(key22);
    assert.deepEqual(pinnedKeysFor(hashed, '127.0.0.1', 2222), [pin2222]);
    assert.deepEqual(pinnedKeysFor(hashed, '127.0.0.1', 22), [pin22]);
    assert.deepEqual(pinnedKeysFor(hashed, '127.0.0.1', 2223), []);
    assert.deepEqual(pinnedKeysFor(hashed, '127.0.0.2', 2222), []);
  });
});

test('parsePublicKeyLine reads type and blob, and rejects a line without a key', () => {
  const key = parsePublicKeyLine(`  ssh-ed25519 ${b64('a')} user@host  \n`);
  assert.equal(key.keyType, 'ssh-ed25519');
  assert.deepEqual(key.blob, blob('a'));
  assert.throws(() => parsePublicKeyLine('ssh-ed25519'), TypeError);
  assert.throws(() => parsePublicKeyLine(''), TypeError);
});

test('fingerprint matches what ssh-keygen -lf prints', () => {
  withTempDir((dir) => {
    const line = keygen(dir, 'k');
    const printed = execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' });
    const expected = /\b(SHA256:[A-Za-z0-9+/]+)\s/.exec(printed)?.[1];
    assert.ok(expected, `no SHA256 fingerprint in ${JSON.stringify(printed)}`);
    assert.equal(fingerprint(parsePublicKeyLine(line).blob), expected);
  });
});
