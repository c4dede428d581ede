/**
 * `composure plan` over SSH against the rig's fixture stacks: the plan is
 * correct and explained for each proxy, it changes nothing on the host, and
 * hostile input is refused before anything runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Plan, ServicePlan } from '../../src/plan/types';
import { runCli, writeRigConfig } from '../support/cli';
import { resetStack } from '../support/deploy';
import { loadRig } from '../support/rig';

const rig = loadRig();
const { file: config } = writeRigConfig();
// Other test files deploy to these stacks; the plans below are made from v1.
before(() => {
  resetStack('traefik');
  resetStack('nginx');
});

function byService(plan: Plan): Record<string, ServicePlan> {
  return Object.fromEntries(plan.services.map((s) => [s.service, s]));
}

function hostState(dir: string): string {
  // What a plan must not change: the checkout and the containers.
  // (The tests run as root; the checkout is deploy's, so git must be told it is safe to read.)
  const head = execFileSync('git', ['-c', 'safe.directory=*', '-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const containers = execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${path.basename(dir)}`], { encoding: 'utf8' });
  return `${head}\n${containers.split('\n').sort().join(',')}`;
}

for (const name of ['traefik', 'nginx'] as const) {
  const stack = rig.stacks[name];
  describe(`composure plan over SSH: ${name} stack`, () => {
    it('v2 changes only the server: start-first, explained; client skipped; proxy kept; host unchanged', async () => {
      const before = hostState(stack.dir);
      const result = await runCli(['--config', config, 'plan', name, '--ref', 'v2', '--json']);
      assert.equal(result.code, 0, result.stderr);
      const plan = JSON.parse(result.stdout) as Plan & { compose: { variant: string; version: string } };
      assert.equal(plan.compose.variant, 'v2');
      assert.deepEqual(plan.services.map((s) => s.service), ['server', 'client', 'proxy'], 'depends_on order, proxy last');
      const s = byService(plan);
      assert.equal(s.server!.action, 'deploy');
      assert.equal(s.server!.strategy, 'start-first');
      assert.match(s.server!.changeReason, /server\/VERSION/);
      assert.equal(s.server!.health.kind, 'docker', 'the image HEALTHCHECK is found');
      assert.equal(s.server!.stopGraceMs, 30_000, 'stop_grace_period from the compose file');
      assert.equal(s.client!.action, 'skip');
      assert.match(s.client!.changeReason, /nothing under client\//);
      assert.equal(s.proxy!.action, 'keep');
      assert.match(s.proxy!.reasons.join(' '), /127\.0\.0\.1:1808\d/);
      assert.equal(plan.refused, false);
      assert.equal(plan.noop, false);
      assert.match(plan.ref?.commit ?? '', /^[0-9a-f]{40}$/);
      assert.equal(hostState(stack.dir), before, 'a plan changes nothing on the host');
    });

    it('the text plan says what and why, and the current ref is a no-op', async () => {
      const text = await runCli(['--config', config, 'plan', name, '--ref', 'client-v2']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /client\s+DEPLOY START-FIRST/);
      assert.match(text.stdout, /server\s+SKIP/);
      assert.match(text.stdout, /proxy\s+KEEP {2}\(proxy\)/);
      assert.match(text.stdout, /why: start-first: a new container starts beside the old/);
      assert.match(text.stdout, /Will deploy: client\./);
      assert.match(text.stdout, /Compose v2 2\.\d+\.\d+ on ssh deploy@127\.0\.0\.1:\d+/);

      const same = await runCli(['--config', config, 'plan', name, '--ref', 'v1']);
      assert.equal(same.code, 0, same.stderr);
      assert.match(same.stdout, /Nothing to deploy: every service is unchanged\./);
    });
  });
}

describe('composure plan: refusals and hostile input', () => {
  const overrideFile = path.join(rig.stacks.traefik.dir, 'composure-test.override.yml');
  after(() => rmSync(overrideFile, { force: true }));

  it('a server that publishes a host port is refused with the reason, exit 2', async () => {
    writeFileSync(overrideFile, 'services:\n  server:\n    ports: ["127.0.0.1:18099:8080"]\n');
    const uid = Number(execFileSync('id', ['-u', 'deploy'], { encoding: 'utf8' }));
    chownSync(overrideFile, uid, uid);
    const withOverride = writeRigConfig({ compose_files: ['docker-compose.yml', 'composure-test.override.yml'] });
    const result = await runCli(['--config', withOverride.file, 'plan', 'traefik', '--ref', 'v2']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /server\s+REFUSE/);
    assert.match(result.stdout, /publishes host port 127\.0\.0\.1:18099/);
    assert.match(result.stdout, /allow_downtime: true/);
    assert.match(result.stdout, /Refused: server/);
  });

  it('a hostile --ref is refused before anything runs on the host', async () => {
    const marker = path.join(os.tmpdir(), `composure-pwned-${process.pid}`);
    for (const ref of [`$(touch ${marker})`, `main; touch ${marker}`, '--upload-pack=touch', '`id`', 'a\nb']) {
      const result = await runCli(['--config', config, 'plan', 'traefik', '--ref', ref]);
      assert.equal(result.code, 2, `${JSON.stringify(ref)}: ${result.stderr}`);
      assert.match(result.stderr, /invalid git ref/);
    }
    assert.equal(existsSync(marker), false);
  });

  it('a hostile value in composure.yml is refused with file:line:column, exit 2', async () => {
    const { dir, file } = writeRigConfig();
    const bad = path.join(dir, 'bad.yml');
    const text = execFileSync('cat', [file], { encoding: 'utf8' }).replace('branch: main', 'branch: "main; touch /tmp/composure-pwned"');
    writeFileSync(bad, text);
    const line = text.split('\n').findIndex((l) => l.includes('branch:')) + 1;
    for (const command of [['validate'], ['plan', 'traefik']]) {
      const result = await runCli(['--config', bad, ...command]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`bad\\.yml:${line}:\\d+: source\\.git\\.branch: not a valid git ref`));
    }
    const unknownEnv = await runCli(['--config', file, 'plan', 'staging']);
    assert.equal(unknownEnv.code, 2);
    const listed = /no environment "staging" \(environments: ([^)]*)\)/.exec(unknownEnv.stderr)?.[1]?.split(', ') ?? [];
    // Every environment of the file, as the rig wrote it (one per fixture stack).
    assert.deepEqual([...listed].sort(), Object.keys(rig.stacks).sort(), unknownEnv.stderr);
  });

  it('the local transport plans the same stack without SSH', async () => {
    // The local transport runs as this user (root in tests), so it gets a
    // checkout of its own: root must not write into deploy's repository.
    const work = mkdtempSync(path.join(os.tmpdir(), 'composure-local-'));
    const origin = path.join(work, 'origin.git');
    cpSync(rig.stacks.nginx.origin, origin, { recursive: true });
    execFileSync('git', ['clone', '-q', origin, path.join(work, 'shop-nginx')]);
    execFileSync('git', ['-C', path.join(work, 'shop-nginx'), 'checkout', '-q', 'v1']);
    const local = writeRigConfig({ host: 'local', directory: path.join(work, 'shop-nginx') });
    const result = await runCli(['--config', local.file, 'plan', 'nginx', '--ref', 'v2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as Plan;
    assert.equal(plan.host, 'local');
    assert.equal(byService(plan).server!.action, 'deploy');
    assert.equal(byService(plan).client!.action, 'skip');
    rmSync(work, { recursive: true, force: true });
  });
});
