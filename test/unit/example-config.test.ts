/** The README's example configuration is valid, so what users copy works. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { loadConfig } from '../../src/config/load';

it('composure.example.yml is valid and resolves both environments', () => {
  const config = loadConfig(path.resolve(__dirname, '../../composure.example.yml'));
  assert.deepEqual(Object.keys(config.environments), ['production', 'staging']);
  const production = config.environments.production!;
  assert.equal(production.host.kind, 'ssh');
  assert.equal(production.directory, '/home/deploy/apps/shop');
  assert.equal(production.services.server?.drainMs, 10_000);
  const staging = config.environments.staging!;
  assert.equal(staging.host.kind, 'local');
  assert.equal(staging.directory, '/srv/shop-staging');
  assert.equal(staging.drainMs, 5_000, 'inherited from the top level');
});
