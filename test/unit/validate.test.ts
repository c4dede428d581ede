import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as validate from '../../src/commands/validate';
import { InvalidValueError } from '../../src/commands/validate';

const SHA1 = 'fd36b188cf1d56c7abe22d64c12be02f55c57c5f';
const SHA256 = 'a'.repeat(64);

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return `a ${typeof value}`;
  }
}

/** Asserts that VALIDATOR refuses VALUE with an InvalidValueError whose kind and message name KIND. */
function assertRefused(validator: (value: never) => unknown, value: unknown, kind: string): void {
  assert.throws(
    () => validator(value as never),
    (err: unknown) => {
      assert.ok(err instanceof InvalidValueError, `expected InvalidValueError, got ${String(err)}`);
      assert.equal(err.kind, kind);
      assert.ok(err.message.startsWith(`invalid ${kind} `), err.message);
      assert.equal(err.name, 'InvalidValueError');
      return true;
    },
    `${kind} should refuse ${describeValue(value)}`,
  );
}

/** Values no string validator may accept: shell syntax, control characters, spaces, lookalikes, non-strings. */
const HOSTILE: unknown[] = [
  'main; rm -rf /',
  '$(reboot)',
  '`id`',
  'a\nb',
  'a\u0000b',
  'a\rb',
  'a\tb',
  '\u001b[31mred',
  'a b',
  '--upload-pack=evil',
  'm\u0430in', // Cyrillic а
  '\u00e9', // é
  'caf\u00e9',
  'a|b',
  'a&b',
  'a>b',
  "a'b",
  'a"b',
  'a\\b',
  'a*',
  42,
  undefined,
  null,
  true,
  {},
  ['main'],
];

interface StringCase {
  validator: (value: unknown) => string;
  kind: string;
  good: string[];
  bad: unknown[];
}

const STRING_CASES: Record<string, StringCase> = {
  serviceName: {
    validator: validate.serviceName,
    kind: 'service name',
    good: ['server', 'client', 'proxy', 'web_1', 'api.v2', 'Worker-2', 'a'.repeat(63)],
    bad: ['', '-x', '_x', '.x', 'a/b', 'a:b', '..', 'a'.repeat(64)],
  },
  projectName: {
    validator: validate.projectName,
    kind: 'project name',
    good: ['shop-traefik', 'shop_nginx', 'app1', '1app', 'a'.repeat(63)],
    bad: ['', '-x', 'Shop', 'shop.traefik', '_shop', 'shop/x', '..', 'a'.repeat(64)],
  },
  gitRef: {
    validator: validate.gitRef,
    kind: 'git ref',
    good: ['main', 'v1.2.3', 'feature/x', 'release/2024-01', 'client-v2', 'never-healthy', 'refs/heads/main', SHA1, SHA256, 'a'.repeat(200)],
    bad: [
      '',
      '-x',
      '..',
      'a..b',
      'a/../b',
      '/etc/../root',
      '@{-1}',
      '@',
      'HEAD',
      'HEAD~1',
      'v1^',
      'main^{commit}',
      'a:b',
      'x.lock',
      'x.lock/y',
      'a//b',
      '/main',
      'main/',
      'main.',
      '.hidden',
      'a/.b',
      'a?',
      'a[b]',
      'a'.repeat(201),
    ],
  },
  commitSha: {
    validator: validate.commitSha,
    kind: 'commit',
    good: [SHA1, SHA256],
    bad: ['', 'main', '-x', SHA1.slice(0, 12), SHA1.toUpperCase(), `${SHA1}0`, `${SHA1}^`, `${SHA256}0`, ` ${SHA1}`],
  },
  gitRemote: {
    validator: validate.gitRemote,
    kind: 'git remote',
    good: [
      'origin',
      'upstream',
      'https://github.com/acme/shop.git',
      'ssh://deploy@git.example.com:2222/srv/shop.git',
      'git@github.com:acme/shop.git',
      'file:///home/deploy/origins/shop-traefik.git',
    ],
    bad: [
      '',
      '-x',
      '--upload-pack=touch /tmp/pwn',
      'ext::sh -c touch% /tmp/pwn',
      'fd::17',
      'https://example.com/../x',
      'ssh://-oProxyCommand=touch/x',
      'ssh://-oProxyCommand%3dtouch%20x/y',
      'ssh://git@-oProxyCommand/x',
      'git@-oProxyCommand:x',
      'ftp://example.com/x',
      'a b',
      `https://example.com/${'a'.repeat(500)}`,
    ],
  },
  absolutePath: {
    validator: validate.absolutePath,
    kind: 'absolute path',
    good: ['/home/deploy/apps/shop', '/', '/srv/app_1/x.y', '/var/lib/composure-rig'],
    bad: ['', 'home/deploy', './x', '-x', '..', '/..', '/etc/../root', '/a/..', '~/apps', '/a b', `/${'a'.repeat(1024)}`],
  },
  relativePath: {
    validator: validate.relativePath,
    kind: 'relative path',
    good: ['compose.yml', 'docker-compose.yml', 'deploy/compose.prod.yml', 'a_b/c@d+e.yaml'],
    bad: ['', '/etc/passwd', '-f', '--file=x', '..', '../x', 'a/../b', 'a/..', '~/x', `${'a'.repeat(1025)}`],
  },
  containerId: {
    validator: validate.containerId,
    kind: 'container id',
    good: ['0123456789ab', 'a'.repeat(64)],
    bad: ['', '0123456789a', 'a'.repeat(65), 'ABCDEF012345', 'shop-server-1', '-f', 'sha256:0123456789ab'],
  },
  imageId: {
    validator: validate.imageId,
    kind: 'image id',
    good: ['sha256:0123456789ab', `sha256:${SHA256}`, '0123456789ab'],
    bad: ['', 'sha256:', 'sha256:xyz', 'sha512:0123456789ab', 'app:v1', '-x', `sha256:${SHA256}0`],
  },
  imageRef: {
    validator: validate.imageRef,
    kind: 'image reference',
    good: [
      'composure-fixture/app:v1',
      `registry.example.com:5000/team/app:1.0@sha256:${SHA256}`,
      'nginx',
      'library/nginx:1.27-alpine',
      `app@sha256:${SHA256}`,
      'localhost:5000/app',
    ],
    bad: ['', '-x', 'App:v1', 'app:', 'app:-x', 'app:.x', 'app/../x', 'app@sha256:abc', 'app:v1 extra', `app:${'a'.repeat(129)}`, `${'a'.repeat(256)}`],
  },
  imageTag: {
    validator: validate.imageTag,
    kind: 'image tag',
    good: ['v1', '1.0', 'latest', '_x', 'a'.repeat(128)],
    bad: ['', '-x', '.x', 'a:b', 'a/b', 'a'.repeat(129)],
  },
  envVarName: {
    validator: validate.envVarName,
    kind: 'environment variable name',
    good: ['APP_TAG', '_X', 'a1'],
    bad: ['', '1A', 'A-B', 'A=B', '-x', '$A'],
  },
  hostName: {
    validator: validate.hostName,
    kind: 'host name',
    good: ['vps.example.com', 'localhost', '127.0.0.1', '::1', 'fe80::1'],
    bad: ['', '-oProxyCommand=x', '-x', 'host.', '.host', 'user@host', 'a_b.com', `${'a'.repeat(254)}`],
  },
  unixUser: {
    validator: validate.unixUser,
    kind: 'user name',
    good: ['deploy', '_svc', 'user-1', 'machine$'],
    bad: ['', '-x', 'Deploy', '1user', 'root;id', 'a'.repeat(33)],
  },
  labelValue: {
    validator: validate.labelValue,
    kind: 'label value',
    good: ['', 'shop-traefik', 'com.example/x:1@y+z', 'a'.repeat(255)],
    bad: ['a=b', 'a,b', 'a'.repeat(256)],
  },
};

interface NumberCase {
  validator: (value: number) => number;
  kind: string;
  good: number[];
  bad: unknown[];
}

const NUMBER_CASES: Record<string, NumberCase> = {
  wholeSeconds: {
    validator: validate.wholeSeconds,
    kind: 'seconds',
    good: [0, 1, 30, 86_400],
    bad: [-1, 1.5, 86_401, NaN, Infinity, -Infinity, '5', '', undefined, null, 10n],
  },
  replicaCount: {
    validator: validate.replicaCount,
    kind: 'replica count',
    good: [0, 1, 2, 1000],
    bad: [-1, 0.5, 1001, NaN, Infinity, '2', undefined, null],
  },
};

describe('validate', () => {
  it('has a case for every exported validator', () => {
    const exported = Object.entries(validate)
      .filter(([name, value]) => typeof value === 'function' && name !== 'InvalidValueError')
      .map(([name]) => name)
      .sort();
    assert.deepEqual(exported, [...Object.keys(STRING_CASES), ...Object.keys(NUMBER_CASES)].sort());
  });

  for (const [name, { validator, kind, good, bad }] of Object.entries(STRING_CASES)) {
    describe(name, () => {
      it('accepts good values unchanged', () => {
        for (const value of good) assert.equal(validator(value), value, `${name} should accept ${JSON.stringify(value)}`);
      });

      it(`refuses bad values with an InvalidValueError naming "${kind}"`, () => {
        for (const value of bad) assertRefused(validator, value, kind);
      });

      it('refuses shell syntax, control characters, spaces, lookalikes and non-strings', () => {
        for (const value of HOSTILE) assertRefused(validator, value, kind);
      });
    });
  }

  for (const [name, { validator, kind, good, bad }] of Object.entries(NUMBER_CASES)) {
    describe(name, () => {
      it('accepts good values unchanged', () => {
        for (const value of good) assert.equal(validator(value), value);
      });

      it(`refuses bad values with an InvalidValueError naming "${kind}"`, () => {
        for (const value of bad) assertRefused(validator, value, kind);
      });
    });
  }

  it('wholeSeconds names the kind it is given', () => {
    assertRefused((v: number) => validate.wholeSeconds(v, 'stop timeout'), -1, 'stop timeout');
  });

  it('InvalidValueError carries kind, value and reason', () => {
    const err = new InvalidValueError('git ref', 'a b', 'has a space');
    assert.equal(err.kind, 'git ref');
    assert.equal(err.value, 'a b');
    assert.equal(err.reason, 'has a space');
    assert.equal(err.message, 'invalid git ref "a b": has a space');
    assert.ok(err instanceof Error);
  });

  it('reports values JSON cannot show (a BigInt, a cycle) as an InvalidValueError, not a TypeError', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assertRefused(validate.gitRef, 10n, 'git ref');
    assertRefused(validate.projectName, cycle, 'project name');
    assertRefused(validate.replicaCount, 3n, 'replica count');
  });

  it('names the offending value safely (JSON-escaped, so a newline cannot forge a log line)', () => {
    assert.throws(() => validate.gitRef('main\nINFO deploy ok'), (err: unknown) => err instanceof InvalidValueError && !err.message.includes('\n'));
  });
});
