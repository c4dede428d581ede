import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { composureJsonSchema } from '../../src/config/json-schema';
import { ConfigError, loadConfig, parseConfig, type ConfigIssue } from '../../src/config/load';
import { parseDuration } from '../../src/config/schema';
import type { EnvironmentConfig } from '../../src/config/types';

/** A well-formed ed25519 public key: the wire format starts with the key type. */
const KEY_BLOB = (fill: number) =>
  Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, fill)]).toString('base64');
const HOST_KEY = `ssh-ed25519 ${KEY_BLOB(1)}`;
const OTHER_KEY = `ssh-ed25519 ${KEY_BLOB(2)}`;

// The format's documented example (schema.ts), with a real key. Tests edit single lines
// with `edit`, so the line numbers in this listing stay valid.
const EXAMPLE = `project_name: shop                 # compose project name (-p)
directory: /home/deploy/apps/shop  # project directory on the host (absolute)
compose_files: [docker-compose.yml]
source:
  git: { remote: origin, branch: main }   # or: image: { variable: TAG }
order: [server, client]            # optional; default from depends_on
proxy:
  service: proxy
  switch: traefik                  # traefik | nginx | none | { command: [nginx, -s, reload] }
health:
  timeout: 60s
  http: { path: /health, port: 8080, expect_status: 200 }   # optional
drain: 5s
allow_downtime: false
services:
  server: { drain: 10s, strategy: start-first, allow_downtime: false, shared_volumes: false, skip: false, health: { timeout: 30s } }
hooks:
  pre_deploy:  [ { service: server, command: [./migrate, up], timeout: 5m } ]
  post_deploy: []
retention: { releases: 5 }
environments:
  production:
    host:
      ssh:
        host: vps.example.com
        port: 22
        user: deploy
        identity: { file: ~/.ssh/composure }      # or { env: COMPOSURE_SSH_KEY }
        host_key: ${HOST_KEY} deploy@vps   # or host_keys: [...] or known_hosts: ./known_hosts
  staging:
    host: local
    directory: /srv/shop-staging
    drain: 1s
`;

/** The example with `line` (1-based) replaced; the replacement must be one line. */
function edit(line: number, replacement: string, text = EXAMPLE): string {
  const lines = text.split('\n');
  assert.ok(line >= 1 && line <= lines.length, `no line ${line}`);
  assert.ok(!replacement.includes('\n'), 'one line only, so later line numbers stay valid');
  lines[line - 1] = replacement;
  return lines.join('\n');
}

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text, 'composure.yml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues;
  }
  return assert.fail('expected a ConfigError');
}

/** The issues as "line:col: path: message" lines. */
const describeIssues = (text: string): string[] => issuesOf(text).map((i) => `${i.line}:${i.column}: ${i.path}: ${i.message}`);

function onlyIssue(text: string): ConfigIssue {
  const issues = issuesOf(text);
  assert.equal(issues.length, 1, `expected one issue, got:\n${issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`).join('\n')}`);
  return issues[0] as ConfigIssue;
}

const shared = {
  directory: '/home/deploy/apps/shop',
  composeFiles: ['docker-compose.yml'],
  projectName: 'shop',
  source: { kind: 'git', remote: 'origin', branch: 'main' },
  order: ['server', 'client'],
  health: { timeoutMs: 60_000, http: { path: '/health', port: 8080, expectStatus: 200 } },
  proxy: { service: 'proxy', switch: { kind: 'traefik' } },
  allowDowntime: false,
  services: {
    server: { drainMs: 10_000, strategy: 'start-first', allowDowntime: false, sharedVolumes: false, skip: false, health: { timeoutMs: 30_000 } },
  },
  hooks: { preDeploy: [{ service: 'server', command: ['./migrate', 'up'], timeoutMs: 300_000 }], postDeploy: [] },
  retention: { releases: 5 },
} satisfies Partial<EnvironmentConfig>;

test('the documented example resolves to the exact config of each environment', () => {
  const production: EnvironmentConfig = {
    ...shared,
    name: 'production',
    host: { kind: 'ssh', host: 'vps.example.com', port: 22, user: 'deploy', identity: { file: '~/.ssh/composure' }, hostKeys: [HOST_KEY] },
    drainMs: 5_000,
  };
  // staging overrides host, directory and drain; everything else is the top level.
  const staging: EnvironmentConfig = { ...shared, name: 'staging', host: { kind: 'local' }, directory: '/srv/shop-staging', drainMs: 1_000 };
  assert.deepStrictEqual(parseConfig(EXAMPLE, 'composure.yml'), { file: 'composure.yml', environments: { production, staging } });
});

test('defaults fill every setting a minimal file leaves out', () => {
  const config = parseConfig(
    `project_name: app
directory: /srv/app
source: { git: {} }
health: { http: { path: /up, port: 80 } }
proxy: { switch: { command: [nginx, -s, reload] } }
hooks: { post_deploy: [ { service: web, command: [./notify] } ] }
retention: {}
environments:
  live:
    host: { ssh: { host: 10.0.0.5, identity: { env: COMPOSURE_SSH_KEY }, host_keys: ["${HOST_KEY}", "${OTHER_KEY} c"], known_hosts: ~/.ssh/known_hosts } }
`,
    'composure.yml',
  );
  assert.deepStrictEqual(config.environments.live, {
    name: 'live',
    host: { kind: 'ssh', host: '10.0.0.5', port: 22, user: 'deploy', identity: { env: 'COMPOSURE_SSH_KEY' }, hostKeys: [HOST_KEY, OTHER_KEY], knownHostsFile: '~/.ssh/known_hosts' },
    directory: '/srv/app',
    composeFiles: [],
    projectName: 'app',
    source: { kind: 'git', remote: 'origin', branch: 'main' },
    health: { timeoutMs: 120_000, http: { path: '/up', port: 80, expectStatus: 200 } },
    proxy: { switch: { kind: 'command', command: ['nginx', '-s', 'reload'] } },
    drainMs: 5_000,
    allowDowntime: false,
    services: {},
    hooks: { preDeploy: [], postDeploy: [{ service: 'web', command: ['./notify'], timeoutMs: 600_000 }] },
    retention: { releases: 5 },
  } satisfies EnvironmentConfig);

  const bare = parseConfig('environments: { x: { host: local, directory: /a, project_name: a, source: { image: { variable: TAG } } } }', 'c.yml');
  const x = bare.environments.x;
  assert.deepStrictEqual(x?.source, { kind: 'image', variable: 'TAG' });
  assert.deepStrictEqual(x?.proxy, { switch: { kind: 'none' } }, 'no proxy block: nothing to switch');
  assert.deepStrictEqual(x?.health, { timeoutMs: 120_000 });
  assert.deepStrictEqual(x?.hooks, { preDeploy: [], postDeploy: [] });
  assert.equal('order' in (x ?? {}), false, 'no order: planned from depends_on');
});

test('an environment overrides per key; services merge per service, hooks per list', () => {
  const config = parseConfig(
    `project_name: app
directory: /srv/app
host: local
source: { git: { branch: main } }
health: { timeout: 60s, http: { path: /up, port: 80 } }
services:
  web: { strategy: start-first, drain: 10s }
  db: { skip: true }
hooks:
  pre_deploy: [ { service: web, command: [migrate] } ]
  post_deploy: [ { service: web, command: [notify] } ]
environments:
  prod: {}
  dev:
    source: { git: { remote: "git@github.com:acme/app.git", branch: develop } }
    health: { timeout: 5s }
    services: { web: { drain: 0 }, worker: { strategy: stop-first, allow_downtime: true } }
    hooks: { pre_deploy: [] }
`,
    'c.yml',
  );
  const { prod, dev } = config.environments;
  assert.deepStrictEqual(prod?.services, { web: { strategy: 'start-first', drainMs: 10_000 }, db: { skip: true } });
  assert.deepStrictEqual(dev?.source, { kind: 'git', remote: 'git@github.com:acme/app.git', branch: 'develop' });
  assert.deepStrictEqual(dev?.health, { timeoutMs: 5_000 }, 'a block is replaced as a whole');
  assert.deepStrictEqual(dev?.services, {
    web: { strategy: 'start-first', drainMs: 0 },
    db: { skip: true },
    worker: { strategy: 'stop-first', allowDowntime: true },
  });
  assert.deepStrictEqual(dev?.hooks.preDeploy, []);
  assert.deepStrictEqual(dev?.hooks.postDeploy, [{ service: 'web', command: ['notify'], timeoutMs: 600_000 }]);
  // Each environment owns its objects: changing one leaves the other as loaded.
  if (prod?.services.db) prod.services.db.skip = false;
  assert.equal(dev?.services.db?.skip, true);
});

test('errors name file, line, column and path', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['a wrong type deep inside an environment', edit(26, '        port: "22"'), '26:15: environments.production.host.ssh.port: must be a whole number from 1 to 65535'],
    ['a typo in a top-level key', edit(10, 'helth:'), '10:1: helth: unknown key (did you mean "health"?)'],
    ['a typo in an environment', edit(33, '    drian: 1s'), '33:5: environments.staging.drian: unknown key (did you mean "drain"?)'],
    ['a hostile branch', edit(5, '  git: { remote: origin, branch: "main; rm -rf /" }'), '5:34: source.git.branch: not a valid git ref: letters, digits, ".", "_", "/" and "-" only'],
    ['a relative directory', edit(32, '    directory: relative/path'), '32:16: environments.staging.directory: not a valid absolute path: an absolute path of letters, digits and "._@+/-"'],
    ['an uppercase project name', edit(1, 'project_name: Shop'), '1:15: project_name: not a valid project name: lowercase letters, digits, "_" and "-" only, starting with a letter or digit'],
    ['a missing key points at its parent mapping', edit(12, '  http: { port: 8080 }'), '12:9: health.http.path: is required'],
    ['a bad value in a list', edit(18, '  pre_deploy: [ { service: server, command: [], timeout: 5m } ]'), '18:45: hooks.pre_deploy[0].command: must be a non-empty list of strings (argv)'],
    ['an invalid service name (a key)', edit(16, '  sérver: { drain: 10s }'), '16:3: services.sérver: not a valid service name: letters, digits, "_", "." and "-" only, starting with a letter or digit'],
    ['a value of no accepted form', edit(9, '  switch: haproxy'), '9:11: proxy.switch: must be traefik, nginx, none or { command: [...] }'],
  ];
  for (const [name, text, expected] of cases) {
    await t.test(name, () => {
      const issue = onlyIssue(text);
      assert.equal(issue.file, 'composure.yml');
      assert.equal(`${issue.line}:${issue.column}: ${issue.path}: ${issue.message}`, expected);
    });
  }
});

test('a required setting missing after the merge points at the environment', () => {
  const issue = onlyIssue(edit(2, '# no directory at the top level'));
  // Only production lacks it (staging sets its own); its mapping starts at `host:` (23:5).
  assert.deepStrictEqual(issue, {
    file: 'composure.yml',
    line: 23,
    column: 5,
    path: 'environments.production.directory',
    message: 'is required: set directory at the top level or in environments.production',
  });
});

test('YAML syntax errors give file:line:col', () => {
  const syntax = onlyIssue(edit(9, '  switch: traefik: x'));
  assert.deepStrictEqual([syntax.line, syntax.column, syntax.path], [9, 11, '']);
  assert.match(syntax.message, /nested mappings/i);
  const duplicate = onlyIssue(edit(14, 'drain: 6s'));
  assert.deepStrictEqual([duplicate.line, duplicate.column, duplicate.message], [14, 1, 'Map keys must be unique']);
  assert.throws(() => parseConfig('a: [1,\n', 'x.yml'), (err: unknown) => err instanceof ConfigError && /^x\.yml:\d+:\d+: /.test(err.message));
});

test('several errors are all reported, in file order, one per line of the message', () => {
  let text = edit(26, '        port: 0');
  text = edit(10, 'helth:', text);
  text = edit(5, '  git: { remote: origin, branch: "main; rm -rf /" }', text);
  text = edit(32, '    directory: relative/path', text);
  assert.throws(
    () => parseConfig(text, 'composure.yml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError && err instanceof Error);
      assert.equal(err.name, 'ConfigError');
      assert.deepStrictEqual(err.message.split('\n'), [
        'composure.yml:5:34: source.git.branch: not a valid git ref: letters, digits, ".", "_", "/" and "-" only',
        'composure.yml:10:1: helth: unknown key (did you mean "health"?)',
        'composure.yml:26:15: environments.production.host.ssh.port: must be a whole number from 1 to 65535',
        'composure.yml:32:16: environments.staging.directory: not a valid absolute path: an absolute path of letters, digits and "._@+/-"',
      ]);
      assert.equal(err.issues.length, 4);
      return true;
    },
  );
});

test('hostile values are refused wherever they would reach a command', () => {
  const hostile = ['$(reboot)', '`reboot`'];
  for (const bad of hostile) {
    const q = JSON.stringify(bad);
    const cases: Array<[number, string, string]> = [
      [1, `project_name: ${q}`, 'project_name'],
      [2, `directory: ${JSON.stringify(`/srv/${bad}`)}`, 'directory'],
      [3, `compose_files: [${q}]`, 'compose_files[0]'],
      [5, `  git: { remote: ${q}, branch: main }`, 'source.git.remote'],
      [5, `  git: { remote: origin, branch: ${q} }`, 'source.git.branch'],
      [6, `order: [server, ${q}]`, 'order[1]'],
      [8, `  service: ${q}`, 'proxy.service'],
      [16, `  ${q}: { skip: true }`, `services.${bad}`],
      [18, `  pre_deploy: [ { service: ${q}, command: [x] } ]`, 'hooks.pre_deploy[0].service'],
      [25, `        host: ${q}`, 'environments.production.host.ssh.host'],
      [27, `        user: ${q}`, 'environments.production.host.ssh.user'],
      [28, `        identity: { env: ${q} }`, 'environments.production.host.ssh.identity.env'],
      [12, `  http: { path: ${JSON.stringify(`/health${bad}`)}, port: 8080 }`, 'health.http.path'],
    ];
    for (const [line, replacement, path] of cases) {
      const issue = onlyIssue(edit(line, replacement));
      assert.equal(issue.path, path, `${bad} at ${path}`);
      assert.equal(issue.line, line);
    }
  }
  // A newline inside a quoted string (a YAML escape), in a value and in a hook's argv.
  assert.match(onlyIssue(edit(5, '  git: { remote: origin, branch: "main\\nrm -rf /" }')).message, /control character/);
  assert.match(onlyIssue(edit(32, '    directory: "/srv/a\\nb"')).message, /control character/);
  assert.match(onlyIssue(edit(18, '  pre_deploy: [ { service: server, command: [sh, "-c\\nreboot"] } ]')).message, /NUL or newline/);
  assert.match(onlyIssue(edit(18, '  pre_deploy: [ { service: server, command: [sh, "a\\0b"] } ]')).message, /NUL or newline/);
  // What git would read as an option, and paths that escape the project.
  assert.match(onlyIssue(edit(5, '  git: { remote: origin, branch: --upload-pack=evil }')).message, /starts with "-"/);
  assert.match(onlyIssue(edit(32, '    directory: /srv/../etc')).message, /".." segment/);
  assert.match(onlyIssue(edit(3, 'compose_files: [../other/docker-compose.yml]')).message, /".." segment/);
  assert.equal(onlyIssue(edit(16, '  sérver: { skip: true }')).path, 'services.sérver');
  assert.equal(onlyIssue(edit(6, 'order: [server, clïent]')).path, 'order[1]');
  // Hook arguments may hold anything else: they are quoted, not checked.
  const ok = parseConfig(edit(18, '  pre_deploy: [ { service: server, command: [sh, -c, "echo $(date) `id`; rm -rf /tmp/x"] } ]'), 'c.yml');
  assert.deepStrictEqual(ok.environments.staging?.hooks.preDeploy[0]?.command, ['sh', '-c', 'echo $(date) `id`; rm -rf /tmp/x']);
});

test('an ssh host needs a pinned key: Composure never trusts on first use', () => {
  const issue = onlyIssue(edit(29, '        # no host key'));
  assert.deepStrictEqual([issue.line, issue.column, issue.path], [25, 9, 'environments.production.host.ssh']);
  assert.match(issue.message, /no pinned host key: set host_key, host_keys or known_hosts/);
  assert.match(issue.message, /never trusts/);
  assert.equal(onlyIssue(edit(29, '        host_keys: []')).path, 'environments.production.host.ssh');
  // Any one of the three pins the host.
  const viaFile = parseConfig(edit(29, '        known_hosts: ./known_hosts'), 'c.yml').environments.production?.host;
  assert.deepStrictEqual(viaFile, { kind: 'ssh', host: 'vps.example.com', port: 22, user: 'deploy', identity: { file: '~/.ssh/composure' }, hostKeys: [], knownHostsFile: './known_hosts' });
  // Host keys are checked: their form, and that the data is a key of the stated type.
  assert.match(onlyIssue(edit(29, '        host_key: AAAAC3NzaC1lZDI1NTE5')).message, /must be a public key line/);
  assert.match(onlyIssue(edit(29, '        host_key: ssh-dss AAAAB3NzaC1kc3M=')).message, /must be a public key line/);
  assert.match(onlyIssue(edit(29, `        host_key: ssh-rsa ${KEY_BLOB(1)}`)).message, /not a ssh-rsa key/);
  assert.match(onlyIssue(edit(29, '        host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI...')).message, /must be a public key line/);
  assert.equal(onlyIssue(edit(29, `        known_hosts: "~root/known_hosts"`)).path, 'environments.production.host.ssh.known_hosts');
  assert.equal(onlyIssue(edit(29, `        known_hosts: "a\\tb"`)).path, 'environments.production.host.ssh.known_hosts');
});

test('identity is { file } or { env }; a private key in the file is refused', () => {
  const secrets = /secrets are referenced, not written/;
  const pem = '"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\\n-----END OPENSSH PRIVATE KEY-----"';
  const literal = onlyIssue(edit(28, `        identity: ${pem}`));
  assert.deepStrictEqual([literal.line, literal.column, literal.path], [28, 19, 'environments.production.host.ssh.identity']);
  assert.match(literal.message, secrets);
  // `private_key` anywhere, even beside a valid identity.
  const keyed = issuesOf(edit(27, `        private_key: ${pem}`));
  assert.deepStrictEqual(
    keyed.map((i) => [i.line, i.column, i.path]),
    [[27, 9, 'environments.production.host.ssh.private_key']],
  );
  assert.match(keyed[0]?.message ?? '', secrets);
  assert.match(onlyIssue(edit(1, `private_key: x`)).message, secrets);
  assert.match(onlyIssue(edit(28, `        identity: { file: ${pem} }`)).message, secrets);

  const shapes: Array<[string, RegExp]> = [
    ['identity: ~/.ssh/id_ed25519', /must be \{ file: PATH \} or \{ env: VARIABLE \}/],
    ['identity: {}', /exactly one/],
    ['identity: { file: ~/.ssh/id, env: KEY }', /exactly one/],
    ['identity: { env: "1KEY" }', /not a valid environment variable name/],
  ];
  for (const [line, message] of shapes) assert.match(onlyIssue(edit(28, `        ${line}`)).message, message, line);
  // An unknown key is reported as such (not as a typo of a key allowed elsewhere, like http's `path`).
  assert.deepStrictEqual(describeIssues(edit(28, '        identity: { path: ~/.ssh/id }')), [
    '28:19: environments.production.host.ssh.identity: must be { file: PATH } or { env: VARIABLE } (exactly one)',
    '28:21: environments.production.host.ssh.identity.path: unknown key',
  ]);
  assert.deepStrictEqual(describeIssues(edit(28, '        identity: { fiel: ~/.ssh/id }'))[1], '28:21: environments.production.host.ssh.identity.fiel: unknown key (did you mean "file"?)');
  const env = parseConfig(edit(28, '        identity: { env: COMPOSURE_SSH_KEY }'), 'c.yml').environments.production?.host;
  assert.deepStrictEqual(env && env.kind === 'ssh' && env.identity, { env: 'COMPOSURE_SSH_KEY' });
});

test('durations: units, combinations and plain seconds, to milliseconds', () => {
  const good: Array<[string | number, number]> = [
    ['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004], ['0s', 0], [90, 90_000], [0.25, 250], [0, 0],
  ];
  for (const [input, ms] of good) assert.equal(parseDuration(input), ms, String(input));
  for (const bad of ['', '5', '1.5s', '5 s', 's', '30S', '1s1m', '-5s', '5d', ' 5s']) assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(parseDuration(bad), undefined, String(bad));

  assert.equal(parseConfig(edit(13, 'drain: 90'), 'c.yml').environments.production?.drainMs, 90_000);
  assert.equal(parseConfig(edit(13, 'drain: 1m30s'), 'c.yml').environments.production?.drainMs, 90_000);
  assert.deepStrictEqual(describeIssues(edit(13, 'drain: 5 minutes')), ['13:8: drain: must be a duration such as 500ms, 30s, 5m, 1h or 1m30s, or a number of seconds']);
  assert.deepStrictEqual(describeIssues(edit(13, 'drain: 25h')), ['13:8: drain: must be at most 24h']);
  assert.deepStrictEqual(describeIssues(edit(13, 'drain: true')), ['13:8: drain: must be a duration such as 500ms, 30s, 5m, 1h or 1m30s, or a number of seconds']);
});

test('loadConfig reads the file and names it in errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'composure-config-'));
  try {
    const file = join(dir, 'composure.yml');
    writeFileSync(file, EXAMPLE);
    assert.equal(loadConfig(file).file, file);
    writeFileSync(file, edit(26, '        port: 70000'));
    assert.throws(() => loadConfig(file), (err: unknown) => err instanceof ConfigError && err.message === `${file}:26:15: environments.production.host.ssh.port: must be a whole number from 1 to 65535`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Enough of JSON Schema (2020-12) to check the example's structure against the generated schema. */
function conforms(schema: Record<string, unknown>, value: unknown, path = ''): string[] {
  if (Array.isArray(schema.anyOf)) {
    const all = (schema.anyOf as Array<Record<string, unknown>>).map((s) => conforms(s, value, path));
    return all.some((errors) => errors.length === 0) ? [] : [`${path}: matches no anyOf option`];
  }
  if ('const' in schema && value !== schema.const) return [`${path}: not ${JSON.stringify(schema.const)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return [`${path}: not in enum`];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${path}: not a string`];
      return typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value) ? [`${path}: pattern`] : [];
    case 'number':
    case 'integer':
      return typeof value === 'number' && (schema.type === 'number' || Number.isInteger(value)) ? [] : [`${path}: not a ${schema.type}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: not a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: not an array`];
      return value.flatMap((item, i) => conforms(schema.items as Record<string, unknown>, item, `${path}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: not an object`];
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      const missing = ((schema.required ?? []) as string[]).filter((k) => !(k in value)).map((k) => `${path}.${k}: required`);
      return [
        ...missing,
        ...Object.entries(value).flatMap(([k, v]) => {
          const sub = properties[k] ?? schema.additionalProperties;
          if (sub === false || sub === undefined) return sub === false ? [`${path}.${k}: not allowed`] : [];
          return conforms(sub as Record<string, unknown>, v, `${path}.${k}`);
        }),
      ];
    }
    default:
      return [];
  }
}

test('the JSON Schema describes the file and matches the committed schema/composure.schema.json', () => {
  const schema = composureJsonSchema();
  assert.equal(schema.type, 'object');
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.title, 'composure.yml');
  assert.equal(typeof schema.$id, 'string');
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  assert.ok(properties.environments, 'has environments');
  assert.equal(properties.environments.type, 'object');

  const example: unknown = parseDocument(EXAMPLE).toJS();
  assert.deepStrictEqual(conforms(schema, example), []);
  assert.deepStrictEqual(conforms(schema, parseDocument(edit(10, 'helth:')).toJS()), ['.helth: not allowed']);
  assert.deepStrictEqual(conforms(schema, parseDocument(edit(26, '        port: "22"')).toJS()), ['.environments.production.host: matches no anyOf option']);

  const committed: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schema', 'composure.schema.json'), 'utf8'));
  assert.deepStrictEqual(committed, schema, 'stale: run npx tsx scripts/write-json-schema.ts');
});

test('a health timeout or hook timeout no step timeout could fit is refused, naming the field', () => {
  assert.deepStrictEqual(describeIssues(edit(11, '  timeout: 2h')), ['11:12: health.timeout: must be at most 1h: the step that waits for it must fit its timeout']);
  assert.equal(parseConfig(edit(11, '  timeout: 1h'), 'c.yml').environments.production?.health.timeoutMs, 3_600_000);
  const hook = edit(18, '  pre_deploy:  [ { service: server, command: [./migrate, up], timeout: 7h } ]');
  assert.deepStrictEqual(describeIssues(hook), ['18:72: hooks.pre_deploy[0].timeout: must be at most 6h: the step that waits for it must fit its timeout']);
});
