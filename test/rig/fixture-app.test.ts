/**
 * The fixture app behaves as the deploy tests assume: v1 drains gracefully on
 * SIGTERM (an in-flight slow request completes, and the stop is quick, not
 * the 10 s kill timeout), never-healthy turns `unhealthy`, and
 * crash-after-healthy is healthy first and then exits.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadRig } from '../support/rig';

loadRig(); // the images come from the rig
const started: string[] = [];
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

function run(image: string): string {
  const id = docker('run', '-d', '--label', 'composure.test=fixture-app', '-p', '127.0.0.1::8080', image);
  started.push(id);
  return id;
}

async function waitForHealth(id: string, wanted: string, limitMs: number): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const state = docker('inspect', '-f', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', id);
    if (seen.at(-1) !== state) seen.push(state);
    if (state.endsWith(wanted)) return seen;
    await sleep(200);
  }
  assert.fail(`${id.slice(0, 12)} never reached ${wanted}; states: ${seen.join(' -> ')}`);
}

after(() => {
  for (const id of started) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
});

describe('fixture app images', () => {
  it('v1 becomes healthy, answers its version, and drains in-flight requests on SIGTERM', async () => {
    const id = run('composure-fixture/app:v1');
    await waitForHealth(id, 'running healthy', 15_000);
    const port = docker('port', id, '8080/tcp').split(':').at(-1);
    const res = await fetch(`http://127.0.0.1:${port}/api/`);
    assert.equal(res.headers.get('x-app-version'), 'v1');
    assert.equal((await res.text()).trim(), 'server v1');

    const slow = fetch(`http://127.0.0.1:${port}/slow`);
    await sleep(200); // the request is in flight
    const t0 = Date.now();
    docker('stop', '-t', '10', id);
    const stopMs = Date.now() - t0;
    const answer = await slow;
    assert.equal(answer.status, 200, 'the in-flight request was finished, not cut');
    // The in-flight 1 s request had about 0.8 s left: the stop waits for it, and no longer.
    assert.ok(stopMs >= 500 && stopMs < 2_500, `stopped gracefully in ${stopMs} ms: after the in-flight request, long before the 10 s kill timeout`);
    assert.equal(docker('inspect', '-f', '{{.State.ExitCode}}', id), '0');
  });

  it('never-healthy turns unhealthy within seconds', async () => {
    const id = run('composure-fixture/app:never-healthy');
    const states = await waitForHealth(id, 'running unhealthy', 20_000);
    assert.ok(!states.some((s) => s.endsWith(' healthy') && !s.endsWith('unhealthy')), states.join(' -> '));
  });

  it('crash-after-healthy is healthy first, then exits non-zero', async () => {
    const id = run('composure-fixture/app:crash-after-healthy');
    await waitForHealth(id, 'running healthy', 15_000);
    await waitForHealth(id, 'exited unhealthy', 20_000).catch(() => waitForHealth(id, 'exited healthy', 1_000));
    assert.equal(docker('inspect', '-f', '{{.State.ExitCode}}', id), '3');
  });
});
