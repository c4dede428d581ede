import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseComposePs } from '../../src/compose/ps';

// Shaped like `docker compose ps --all --format json` output from Compose 2.2x.
const webRow = {
  Command: '"nginx -g \'daemon of…"',
  CreatedAt: '2024-05-01 10:00:00 +0000 UTC',
  ExitCode: 0,
  Health: 'healthy',
  ID: '3f1c0a9b2d4e',
  Image: 'shop-web:v2',
  Labels: 'com.docker.compose.project=shop,com.docker.compose.service=web',
  LocalVolumes: '0',
  Mounts: '',
  Name: 'shop-web-1',
  Names: 'shop-web-1',
  Networks: 'shop_default',
  Ports: '0.0.0.0:8080->80/tcp',
  Project: 'shop',
  Publishers: [{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' }],
  RunningFor: '2 minutes ago',
  Service: 'web',
  Size: '0B',
  State: 'running',
  Status: 'Up 2 minutes (healthy)',
};
const workerRow = {
  ExitCode: 1,
  Health: '',
  ID: '9e8d7c6b5a40',
  Image: 'shop-worker:v2',
  Name: 'shop-worker-1',
  Project: 'shop',
  Publishers: null,
  Service: 'worker',
  State: 'exited',
  Status: 'Exited (1) 5 seconds ago',
};

const web = {
  id: '3f1c0a9b2d4e',
  name: 'shop-web-1',
  service: 'web',
  image: 'shop-web:v2',
  state: 'running',
  health: 'healthy',
};
const worker = {
  id: '9e8d7c6b5a40',
  name: 'shop-worker-1',
  service: 'worker',
  image: 'shop-worker:v2',
  state: 'exited',
  health: '',
};

test('NDJSON, one object per line (Compose >= 2.21), keeps only the facts used', () => {
  const stdout = `${JSON.stringify(webRow)}\n${JSON.stringify(workerRow)}\n`;
  assert.deepEqual(parseComposePs(stdout), [web, worker]);
});

test('NDJSON with a single container, CRLF line ends and blank lines', () => {
  assert.deepEqual(parseComposePs(`${JSON.stringify(webRow)}\n`), [web]);
  assert.deepEqual(parseComposePs(`\r\n${JSON.stringify(webRow)}\r\n\r\n${JSON.stringify(workerRow)}\r\n`), [web, worker]);
});

test('the older single JSON array form (Compose < 2.21)', () => {
  assert.deepEqual(parseComposePs(`${JSON.stringify([webRow, workerRow], null, 2)}\n`), [web, worker]);
  assert.deepEqual(parseComposePs('[]\n'), []);
});

test('empty output means no containers', () => {
  assert.deepEqual(parseComposePs(''), []);
  assert.deepEqual(parseComposePs('\n  \n'), []);
});

test('missing Health (no healthcheck, or older Compose) reads as an empty string', () => {
  const { Health: _health, ...noHealth } = webRow;
  assert.deepEqual(parseComposePs(JSON.stringify(noHealth)), [{ ...web, health: '' }]);
});

test('output that is not JSON is an error, not an empty project', () => {
  assert.throws(() => parseComposePs('no configuration file provided: not found'), SyntaxError);
});
