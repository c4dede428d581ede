/**
 * docker-compose.temporal.yml really brings up a Temporal server that
 * Composure can use: healthy, reachable on its loopback port, with Composure's
 * search attributes registered. The image is the rig's stand-in for
 * temporalio/temporal (the same CLI binary; no registry is reachable here).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { searchAttributes } from '../../src/messages';
import { loadRig } from '../support/rig';

const rig = loadRig();
const file = path.resolve(__dirname, '../../docker-compose.temporal.yml');
const project = 'composure-temporal-test';
const env = { ...process.env, TEMPORAL_IMAGE: rig.docker.temporalImage, TEMPORAL_PORT: '17233', TEMPORAL_UI_PORT: '18233' };
const compose = (...args: string[]) => execFileSync('docker', ['compose', '-p', project, '-f', file, ...args], { env, encoding: 'utf8', stdio: 'pipe' });

after(() => {
  compose('down', '--volumes', '--timeout', '5');
});

it('docker-compose.temporal.yml starts a healthy Temporal with Composure search attributes', async () => {
  compose('up', '--detach', '--wait', '--wait-timeout', '90');
  const connection = await Connection.connect({ address: '127.0.0.1:17233' });
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const custom = response.customAttributes ?? {};
    for (const key of Object.values(searchAttributes)) {
      assert.ok(key.name in custom, `${key.name} is registered (have: ${Object.keys(custom).join(', ')})`);
    }
  } finally {
    await connection.close();
  }
  // The UI is served too.
  const ui = await fetch('http://127.0.0.1:18233/');
  assert.equal(ui.status, 200);
});
