import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseComposeConfig, type ComposeService } from '../../src/compose/model';
import { formatDuration, parseDuration } from '../../src/compose/duration';

// Shaped like `docker compose config --format json` from Compose 2.29 (the rig's version),
// including the keys Composure ignores (command: null, networks, resources…).
const v2Json = JSON.stringify(
  {
    name: 'shop',
    networks: { default: { name: 'shop_default', ipam: {} } },
    services: {
      server: {
        build: { context: '/home/deploy/apps/shop/server', dockerfile: 'Dockerfile' },
        command: null,
        depends_on: { db: { condition: 'service_healthy', required: true } },
        entrypoint: null,
        environment: { SERVICE_NAME: 'server' },
        labels: { 'traefik.enable': 'true', 'traefik.http.services.shop-server.loadbalancer.server.port': '8080' },
        networks: { default: null },
        restart: 'unless-stopped',
        stop_grace_period: '30s',
      },
      proxy: {
        command: ['--providers.docker=true'],
        entrypoint: null,
        image: 'traefik:3.7.15',
        networks: { default: null },
        ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '18080', protocol: 'tcp' }],
        volumes: [
          { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', read_only: true, bind: { create_host_path: true } },
        ],
      },
      db: {
        command: null,
        container_name: 'shop-db',
        entrypoint: null,
        healthcheck: { test: ['CMD', 'pg_isready'], interval: '1s' },
        image: 'postgres:16',
        networks: { default: null },
        volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data', volume: {} }],
      },
      worker: {
        command: null,
        deploy: {
          replicas: 3,
          update_config: { parallelism: 2, delay: '5s', failure_action: 'pause', monitor: '30s', order: 'stop-first' },
          resources: {},
          placement: {},
        },
        entrypoint: null,
        image: 'shop-worker:v2',
        networks: { default: null },
        // Published to an ephemeral host port, and not published at all: neither is a fixed host port.
        ports: [
          { mode: 'ingress', host_ip: '127.0.0.1', target: 9000, protocol: 'tcp' },
          { mode: 'ingress', target: 9001, protocol: 'tcp' },
        ],
      },
      cron: {
        command: null,
        entrypoint: null,
        healthcheck: { disable: true },
        image: 'shop-cron:v2',
        networks: { default: null },
      },
    },
    volumes: { pgdata: { name: 'shop_pgdata' } },
  },
  null,
  2,
);

/** Defaults Composure assumes when compose says nothing. */
const defaults = {
  image: undefined,
  buildContext: undefined,
  dockerfile: undefined,
  dependsOn: [],
  healthcheck: undefined,
  stopGraceMs: 10_000,
  replicas: 1,
  updateConfig: { order: undefined, parallelism: 1, delayMs: 0, monitorMs: 0, failureAction: 'rollback' },
  containerName: undefined,
  ports: [],
  volumes: [],
  labels: {},
} satisfies Omit<ComposeService, 'name'>;

test('Compose v2 JSON: every field the planner reads is normalized', () => {
  const model = parseComposeConfig(v2Json);
  assert.equal(model.name, 'shop');
  assert.deepEqual(Object.keys(model.services).sort(), ['cron', 'db', 'proxy', 'server', 'worker']);

  assert.deepEqual(model.services.server, {
    ...defaults,
    name: 'server',
    buildContext: '/home/deploy/apps/shop/server',
    dockerfile: '/home/deploy/apps/shop/server/Dockerfile',
    dependsOn: ['db'],
    stopGraceMs: 30_000,
    labels: { 'traefik.enable': 'true', 'traefik.http.services.shop-server.loadbalancer.server.port': '8080' },
  });
  assert.deepEqual(model.services.proxy, {
    ...defaults,
    name: 'proxy',
    image: 'traefik:3.7.15',
    ports: [{ hostIp: '127.0.0.1', published: '18080', target: 80 }],
    volumes: [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', readOnly: true }],
  });
  assert.deepEqual(model.services.db, {
    ...defaults,
    name: 'db',
    image: 'postgres:16',
    containerName: 'shop-db',
    healthcheck: { disabled: false, test: ['CMD', 'pg_isready'] },
    volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data', readOnly: false }],
  });
  assert.deepEqual(model.services.worker, {
    ...defaults,
    name: 'worker',
    image: 'shop-worker:v2',
    replicas: 3,
    updateConfig: { order: 'stop-first', parallelism: 2, delayMs: 5_000, monitorMs: 30_000, failureAction: 'pause' },
    ports: [],
  });
  assert.deepEqual(model.services.cron, { ...defaults, name: 'cron', image: 'shop-cron:v2', healthcheck: { disabled: true, test: [] } });
});

test('Compose v1 YAML: short-syntax ports and volumes, depends_on list, scale', () => {
  // Shaped like `docker-compose config` from Compose 1.29.
  const v1Yaml = `
services:
  web:
    build:
      context: /home/deploy/apps/shop/web
    depends_on:
    - db
    - cache
    ports:
    - 127.0.0.1:8080:80/tcp
    - 8081:81
    - '80'
    scale: 2
    stop_grace_period: 1m30s
    volumes:
    - data:/data
    - ./x:/x:ro
    - /home/deploy/apps/shop/conf:/conf:ro,z
    - cache:/cache:rw
  db:
    image: postgres:16
    healthcheck:
      test: pg_isready -U postgres
  cache:
    build: /home/deploy/apps/shop/cache
    healthcheck:
      test: [NONE]
version: '3.7'
`;
  const model = parseComposeConfig(v1Yaml);
  assert.equal(model.name, '', 'v1 output has no project name');
  assert.deepEqual(model.services.web, {
    ...defaults,
    name: 'web',
    buildContext: '/home/deploy/apps/shop/web',
    dockerfile: '/home/deploy/apps/shop/web/Dockerfile',
    dependsOn: ['db', 'cache'],
    stopGraceMs: 90_000,
    replicas: 2,
    ports: [
      { hostIp: '127.0.0.1', published: '8080', target: 80 },
      { hostIp: '', published: '8081', target: 81 },
    ],
    volumes: [
      { type: 'volume', source: 'data', target: '/data', readOnly: false },
      { type: 'bind', source: './x', target: '/x', readOnly: true },
      { type: 'bind', source: '/home/deploy/apps/shop/conf', target: '/conf', readOnly: true },
      { type: 'volume', source: 'cache', target: '/cache', readOnly: false },
    ],
  });
  assert.deepEqual(model.services.db?.healthcheck, { disabled: false, test: ['CMD-SHELL', 'pg_isready -U postgres'] });
  assert.equal(model.services.cache?.buildContext, '/home/deploy/apps/shop/cache', 'build: as a plain string');
  assert.deepEqual(model.services.cache?.healthcheck, { disabled: true, test: ['NONE'] });
});

test('a lone container path in v1 short syntax is an anonymous volume, as v2 reports it', () => {
  const v1 = parseComposeConfig('services:\n  app:\n    image: app\n    volumes:\n    - /scratch\n');
  const v2 = parseComposeConfig(JSON.stringify({ services: { app: { image: 'app', volumes: [{ type: 'volume', target: '/scratch', volume: {} }] } } }));
  assert.deepEqual(v1.services.app?.volumes, [{ type: 'volume', source: '', target: '/scratch', readOnly: false }]);
  assert.deepEqual(v1.services.app?.volumes, v2.services.app?.volumes);
});

test('deploy.replicas wins over scale; an empty or odd update_config falls back to defaults', () => {
  const model = parseComposeConfig(
    JSON.stringify({
      services: {
        both: { image: 'a', scale: 5, deploy: { replicas: 2 } },
        empty: { image: 'a', deploy: { update_config: {} } },
        odd: { image: 'a', deploy: { update_config: { parallelism: 0, order: 'sideways', failure_action: 'explode' } } },
        cont: { image: 'a', deploy: { update_config: { order: 'start-first', failure_action: 'continue' } } },
      },
    }),
  );
  assert.equal(model.services.both?.replicas, 2);
  assert.deepEqual(model.services.empty?.updateConfig, defaults.updateConfig);
  // parallelism 0 is Swarm's "all at once" (the planner caps it at the replicas).
  assert.deepEqual(model.services.odd?.updateConfig, { ...defaults.updateConfig, parallelism: Number.MAX_SAFE_INTEGER });
  assert.equal(model.services.cont?.updateConfig.order, 'start-first');
  assert.equal(model.services.cont?.updateConfig.failureAction, 'continue');
});

test('a document without services gives an empty model', () => {
  assert.deepEqual(parseComposeConfig('name: empty\n'), { name: 'empty', services: {} });
});

test('parseDuration: Go-style durations and plain seconds, in milliseconds', () => {
  const cases: [string | number, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h0m0s', 3_600_000],
    ['1.5s', 1_500],
    ['0s', 0],
    ['250us', 0],
    [' 10s ', 10_000],
    ['10', 10_000],
    ['2.5', 2_500],
    [10, 10_000],
    [0.25, 250],
    [0, 0],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, JSON.stringify(input));
});

test('parseDuration: anything else is a RangeError', () => {
  for (const bad of ['abc', '5x', '-1', '', '1m 30s', '30s!', 's', -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => parseDuration(bad), RangeError, JSON.stringify(bad));
  }
  assert.throws(() => parseDuration('abc'), /not a duration: "abc" \(use e\.g\. 500ms, 30s, 1m30s\)/);
});

test('formatDuration: short text for messages', () => {
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(1_000), '1s');
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(5_430_000), '1h30m30s');
});
