import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  compose,
  composeBuild,
  composeConfig,
  composeConfigHash,
  composePs,
  composePull,
  composeRun,
  composeScale,
  composeUpService,
  composeVersion,
  composeVersionCommands,
  type ComposeProject,
} from '../../src/commands/compose';
import {
  ALLOWED_SIGNALS,
  commandArgv,
  dockerEvents,
  execInContainer,
  disableRestarts,
  startContainers,
  forceRemoveContainers,
  inspectContainers,
  inspectImages,
  listServiceContainers,
  removeContainers,
  removeImages,
  signalContainer,
  stopContainers,
  stopThenSignal,
  tagImage,
  type ContainerSignal,
} from '../../src/commands/docker';
import { gitCheckout, gitFetch, gitHead, gitRemoteBranchHead, gitResolveCommit, gitStatusPorcelain } from '../../src/commands/git';
import { InvalidValueError } from '../../src/commands/validate';

const SHA = 'fd36b188cf1d56c7abe22d64c12be02f55c57c5f';
const ID1 = '0123456789ab'.repeat(5) + 'cdef'; // 64 hex
const ID2 = 'abcdef012345';
const DIGEST = `sha256:${'b'.repeat(64)}`;

const V2: ComposeProject = { name: 'shop-traefik', files: ['compose.yml', 'deploy/compose.prod.yml'] };
const V1: ComposeProject = { name: 'shop-traefik', files: ['compose.yml', 'deploy/compose.prod.yml'], variant: 'v1' };
const V2_PREFIX = ['docker', 'compose', '-p', 'shop-traefik', '-f', 'compose.yml', '-f', 'deploy/compose.prod.yml'];
const V1_PREFIX = ['docker-compose', '-p', 'shop-traefik', '-f', 'compose.yml', '-f', 'deploy/compose.prod.yml'];

/** Hostile strings no builder may put in argv for a name, id, ref or path parameter. */
const HOSTILE = ['', '-x', '--force', 'a b', 'main; rm -rf /', '$(reboot)', '`id`', 'a\nb', 'a\u0000b', '..', 'a/../b', 'm\u0430in'];

/** Asserts FN throws an InvalidValueError (optionally of KIND) instead of returning argv. */
function refuses(fn: () => unknown, kind?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidValueError, `expected InvalidValueError, got ${String(err)}`);
    if (kind !== undefined) assert.equal(err.kind, kind);
    return true;
  });
}

/** Every element a non-empty-safe string without NUL or newline (what a transport can carry). */
function assertCarriable(argv: string[]): void {
  assert.ok(argv.length > 0);
  for (const arg of argv) {
    assert.equal(typeof arg, 'string');
    assert.ok(!/[\0\n\r]/.test(arg), JSON.stringify(arg));
  }
}

// Casts for values the types forbid but a caller (config, JSON, a workflow input) could still pass.
const asAny = <T>(value: unknown): T => value as T;

describe('compose', () => {
  it('builds the v2 and v1 prefixes with -p and one -f per file', () => {
    assert.deepEqual(compose(V2, 'ps'), [...V2_PREFIX, 'ps']);
    assert.deepEqual(compose(V1, 'ps'), [...V1_PREFIX, 'ps']);
    assert.deepEqual(compose({ name: 'shop', variant: 'v2' }, 'ps'), ['docker', 'compose', '-p', 'shop', 'ps']);
    assert.deepEqual(compose({ name: 'shop', files: [] }), ['docker', 'compose', '-p', 'shop']);
  });

  it('sets interpolation variables for one command with env, image tags only', () => {
    assert.deepEqual(compose({ ...V2, environment: { TAG: 'v2.1' } }, 'config'), ['env', 'TAG=v2.1', ...V2_PREFIX, 'config']);
    assert.deepEqual(compose({ ...V2, environment: {} }, 'ps'), [...V2_PREFIX, 'ps']);
    for (const bad of ['v1; reboot', '$(id)', 'a b', '', '-x']) refuses(() => compose({ ...V2, environment: { TAG: bad } }, 'config'), 'image tag');
    for (const bad of ['TAG=x', '1X', 'A B', '']) refuses(() => compose({ ...V2, environment: { [bad]: 'v1' } }, 'config'), 'environment variable name');
  });

  it('refuses a hostile project name, file or variant', () => {
    for (const bad of [...HOSTILE, 'Shop', 'shop.x', 'shop/x']) refuses(() => compose({ name: bad }, 'ps'), 'project name');
    for (const bad of [...HOSTILE.filter((v) => v !== '..' && v !== 'a/../b'), '/etc/compose.yml', '../compose.yml', 'a/../compose.yml']) {
      refuses(() => compose({ name: 'shop', files: ['compose.yml', bad] }, 'ps'));
    }
    refuses(() => compose({ name: 'shop', variant: asAny('v3') }, 'ps'), 'compose variant');
    refuses(() => compose({ name: asAny(undefined) }, 'ps'), 'project name');
  });

  it('composePs: v2 JSON; v1 has no JSON ps and says so', () => {
    assert.deepEqual(composePs(V2), [...V2_PREFIX, 'ps', '--all', '--format', 'json']);
    assert.deepEqual(composePs({ name: 'shop' }), ['docker', 'compose', '-p', 'shop', 'ps', '--all', '--format', 'json']);
    assert.throws(() => composePs(V1), /v1.*listServiceContainers/);
    refuses(() => composePs({ name: '$(reboot)' }));
  });

  it('version probes for v2 and v1', () => {
    assert.deepEqual(composeVersion(), ['docker', 'compose', 'version', '--short']);
    assert.deepEqual(composeVersionCommands(), {
      v2: ['docker', 'compose', 'version', '--short'],
      v1: ['docker-compose', 'version', '--short'],
    });
  });

  it('composeConfig: JSON for v2, YAML for v1', () => {
    assert.deepEqual(composeConfig(V2), [...V2_PREFIX, 'config', '--format', 'json']);
    assert.deepEqual(composeConfig(V1), [...V1_PREFIX, 'config']);
    refuses(() => composeConfig({ name: '-p' }));
  });

  it('composeConfigHash: v2 only, services joined by commas', () => {
    assert.deepEqual(composeConfigHash(V2, ['server', 'client']), [...V2_PREFIX, 'config', '--hash', 'server,client']);
    assert.deepEqual(composeConfigHash(V2, ['server']), [...V2_PREFIX, 'config', '--hash', 'server']);
    assert.throws(
      () => composeConfigHash(V1, ['server']),
      (err: unknown) => err instanceof Error && !(err instanceof InvalidValueError) && /v2/.test(err.message) && /v1/.test(err.message),
    );
    refuses(() => composeConfigHash(V2, []));
    for (const bad of [...HOSTILE, '*', 'a,b', 'server,$(id)']) refuses(() => composeConfigHash(V2, ['server', bad]), 'service name');
    refuses(() => composeConfigHash({ name: 'Bad' }, ['server']), 'project name');
  });

  it('composeBuild with and without --pull', () => {
    assert.deepEqual(composeBuild(V2, ['server', 'client']), [...V2_PREFIX, 'build', 'server', 'client']);
    assert.deepEqual(composeBuild(V2, ['server'], { pull: true }), [...V2_PREFIX, 'build', '--pull', 'server']);
    assert.deepEqual(composeBuild(V2, ['server'], { pull: false }), [...V2_PREFIX, 'build', 'server']);
    assert.deepEqual(composeBuild(V1, ['server'], { pull: true }), [...V1_PREFIX, 'build', '--pull', 'server']);
    refuses(() => composeBuild(V2, []));
    for (const bad of HOSTILE) refuses(() => composeBuild(V2, [bad]), 'service name');
    refuses(() => composeBuild(V2, asAny('server')));
    refuses(() => composeBuild({ name: 'a b' }, ['server']), 'project name');
  });

  it('composePull', () => {
    assert.deepEqual(composePull(V2, ['server', 'client']), [...V2_PREFIX, 'pull', 'server', 'client']);
    assert.deepEqual(composePull(V1, ['server']), [...V1_PREFIX, 'pull', 'server']);
    refuses(() => composePull(V2, []));
    for (const bad of HOSTILE) refuses(() => composePull(V2, ['server', bad]), 'service name');
  });

  it('composeScale starts new containers beside the old (start-first)', () => {
    const expected = ['up', '--detach', '--no-deps', '--no-recreate', '--no-build', '--scale', 'server=2', 'server'];
    assert.deepEqual(composeScale(V2, 'server', 2), [...V2_PREFIX, ...expected]);
    assert.deepEqual(composeScale(V1, 'server', 2), [...V1_PREFIX, ...expected]);
    assert.deepEqual(composeScale({ name: 'shop' }, 'client', 0).slice(-2), ['client=0', 'client']);
    // A rollback's restore creates only: Compose would start every stopped container of the service.
    const created = composeScale(V2, 'server', 2, { start: false });
    assert.ok(created.includes('--no-start') && !created.includes('--detach'), created.join(' '));
    assert.deepEqual(composeScale(V2, 'server', 2, { start: true }), composeScale(V2, 'server', 2));
    for (const bad of HOSTILE) refuses(() => composeScale(V2, bad, 2), 'service name');
    for (const bad of [-1, 1.5, 1001, NaN, Infinity, asAny<number>('2'), asAny<number>('2; id')]) refuses(() => composeScale(V2, 'server', bad), 'replica count');
    refuses(() => composeScale({ name: '$(id)' }, 'server', 2), 'project name');
  });

  it('composeUpService recreates one service (stop-first)', () => {
    assert.deepEqual(composeUpService(V2, 'proxy'), [...V2_PREFIX, 'up', '--detach', '--no-deps', '--no-build', 'proxy']);
    assert.deepEqual(composeUpService(V1, 'proxy'), [...V1_PREFIX, 'up', '--detach', '--no-deps', '--no-build', 'proxy']);
    for (const bad of HOSTILE) refuses(() => composeUpService(V2, bad), 'service name');
    refuses(() => composeUpService({ name: '' }, 'proxy'), 'project name');
  });

  it('composeRun passes the hook command as separate arguments, with no "--"', () => {
    const hook = ['sh', '-c', 'bin/migrate --to "$VERSION" && echo \'done\'; true', 'ünïcode', ''];
    assert.deepEqual(composeRun(V2, 'server', hook), [...V2_PREFIX, 'run', '--rm', '--no-deps', '-T', 'server', ...hook]);
    assert.deepEqual(composeRun(V1, 'server', ['bin/migrate']), [...V1_PREFIX, 'run', '--rm', '--no-deps', '-T', 'server', 'bin/migrate']);
    assert.ok(!composeRun(V2, 'server', ['true']).includes('--'));
  });

  it('composeRun refuses a hostile service or command', () => {
    for (const bad of HOSTILE) refuses(() => composeRun(V2, bad, ['true']), 'service name');
    refuses(() => composeRun(V2, 'server', []), 'command');
    refuses(() => composeRun(V2, 'server', ['-x']), 'command');
    refuses(() => composeRun(V2, 'server', ['--entrypoint=sh']), 'command');
    refuses(() => composeRun(V2, 'server', ['--', 'sh']), 'command');
    refuses(() => composeRun(V2, 'server', ['sh', 'a\nb']), 'command');
    refuses(() => composeRun(V2, 'server', ['sh', 'a\rb']), 'command');
    refuses(() => composeRun(V2, 'server', ['sh', 'a\u0000b']), 'command');
    refuses(() => composeRun(V2, 'server', [asAny<string>(42)]), 'command');
    refuses(() => composeRun(V2, 'server', asAny('sh -c id')), 'command');
    refuses(() => composeRun(V2, 'server', ['x'.repeat(40_000)]), 'command');
    refuses(() => composeRun({ name: 'x;y' }, 'server', ['true']), 'project name');
  });
});

describe('docker', () => {
  it('listServiceContainers filters by Compose labels', () => {
    assert.deepEqual(listServiceContainers('shop-traefik'), [
      'docker', 'ps', '--all', '--no-trunc',
      '--filter', 'label=com.docker.compose.project=shop-traefik',
      '--format', '{{json .}}',
    ]);
    assert.deepEqual(listServiceContainers('shop-traefik', 'server'), [
      'docker', 'ps', '--all', '--no-trunc',
      '--filter', 'label=com.docker.compose.project=shop-traefik',
      '--filter', 'label=com.docker.compose.service=server',
      '--format', '{{json .}}',
    ]);
    for (const bad of [...HOSTILE, 'shop,label=x', 'shop=x']) refuses(() => listServiceContainers(bad), 'project name');
    for (const bad of [...HOSTILE, 'server,x', 'server=x']) refuses(() => listServiceContainers('shop', bad), 'service name');
  });

  const BAD_IDS = [...HOSTILE, 'ABCDEF012345', 'abcdef01234', 'shop-server-1', `${ID2};id`, 'a'.repeat(65)];

  it('inspectContainers', () => {
    assert.deepEqual(inspectContainers([ID1, ID2]), ['docker', 'inspect', '--type', 'container', ID1, ID2]);
    refuses(() => inspectContainers([]));
    for (const bad of BAD_IDS) refuses(() => inspectContainers([ID1, bad]), 'container id');
  });

  it('stopThenSignal: one docker stop for every container, then the signal to each proxy, even when the stop failed', () => {
    // A fake docker on PATH logs each call; the script is what the host runs.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'composure-stop-signal-'));
    writeFileSync(path.join(dir, 'docker'), `#!/bin/sh\necho "$*" >> "${dir}/calls"\n[ "$1" != stop ] || exit "\${STOP_EXIT:-0}"\n`, { mode: 0o755 });
    const run = (argv: string[], stopExit: number) => {
      rmSync(path.join(dir, 'calls'), { force: true });
      const r = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: `${dir}:/usr/bin:/bin`, STOP_EXIT: String(stopExit) }, encoding: 'utf8' });
      return { code: r.status, calls: readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') };
    };
    const PROXY = 'fedcba987654';
    const argv = stopThenSignal([ID1, ID2], 30, [PROXY], 'HUP');
    assert.equal(argv[0], 'sh');
    assert.deepEqual(run(argv, 0), { code: 0, calls: [`stop --time 30 ${ID1} ${ID2}`, `kill --signal HUP ${PROXY}`] });
    assert.deepEqual(run(argv, 1), { code: 1, calls: [`stop --time 30 ${ID1} ${ID2}`, `kill --signal HUP ${PROXY}`] });
    assert.deepEqual(run(stopThenSignal([ID1], 5, [PROXY, ID2], 'HUP'), 0).calls, [`stop --time 5 ${ID1}`, `kill --signal HUP ${PROXY} ${ID2}`]);
    refuses(() => stopThenSignal([], 10, [PROXY], 'HUP'));
    refuses(() => stopThenSignal([ID1], 10, [], 'HUP'));
    for (const bad of BAD_IDS) refuses(() => stopThenSignal([ID1], 10, [bad], 'HUP'), 'container id');
    refuses(() => stopThenSignal([ID1], 10, [PROXY], asAny<'HUP'>('HUP; id')), 'signal');
  });

  it('stopContainers', () => {
    assert.deepEqual(stopContainers([ID1], 30), ['docker', 'stop', '--time', '30', ID1]);
    assert.deepEqual(stopContainers([ID1, ID2], 0), ['docker', 'stop', '--time', '0', ID1, ID2]);
    refuses(() => stopContainers([], 10));
    for (const bad of BAD_IDS) refuses(() => stopContainers([bad], 10), 'container id');
    for (const bad of [-1, 1.5, 86_401, NaN, asAny<number>('10'), asAny<number>('10; id')]) refuses(() => stopContainers([ID1], bad), 'stop timeout');
  });

  it('startContainers starts exactly the given containers', () => {
    assert.deepEqual(startContainers([ID1, ID2]), ['docker', 'start', ID1, ID2]);
    refuses(() => startContainers([]));
    for (const bad of BAD_IDS) refuses(() => startContainers([bad]), 'container id');
  });

  it('disableRestarts turns off the restart policy of the given containers only', () => {
    assert.deepEqual(disableRestarts([ID1, ID2]), ['docker', 'update', '--restart=no', ID1, ID2]);
    refuses(() => disableRestarts([]));
    refuses(() => disableRestarts(['--restart=always']), 'container id');
    for (const bad of BAD_IDS) refuses(() => disableRestarts([bad]), 'container id');
  });

  it('removeContainers never forces; forceRemoveContainers does', () => {
    assert.deepEqual(removeContainers([ID1, ID2]), ['docker', 'rm', ID1, ID2]);
    for (const ids of [[ID1], [ID2], [ID1, ID2]]) {
      const argv = removeContainers(ids);
      assert.ok(!argv.some((arg) => arg === '-f' || arg === '--force' || arg.startsWith('-f') || arg.startsWith('--force')), argv.join(' '));
    }
    assert.deepEqual(forceRemoveContainers([ID1]), ['docker', 'rm', '--force', ID1]);
    for (const fn of [removeContainers, forceRemoveContainers]) {
      refuses(() => fn([]));
      refuses(() => fn(['-f']), 'container id');
      refuses(() => fn([ID1, '--force']), 'container id');
      for (const bad of BAD_IDS) refuses(() => fn([bad]), 'container id');
    }
  });

  const REFS = ['composure-fixture/app:v1', `registry.example.com:5000/team/app:1.0@${DIGEST}`, DIGEST, ID2];
  const BAD_REFS = [...HOSTILE, 'App:v1', 'app:-x', 'app@sha256:abc', '-f'];

  it('inspectImages and removeImages take ids or references', () => {
    assert.deepEqual(inspectImages(REFS), ['docker', 'image', 'inspect', ...REFS]);
    assert.deepEqual(removeImages(['composure-fixture/app:v1']), ['docker', 'image', 'rm', 'composure-fixture/app:v1']);
    assert.ok(!removeImages(REFS).some((arg) => arg.startsWith('-')));
    for (const fn of [inspectImages, removeImages]) {
      refuses(() => fn([]));
      for (const bad of BAD_REFS) refuses(() => fn(['nginx', bad]), 'image reference or id');
    }
  });

  it('tagImage', () => {
    assert.deepEqual(tagImage(DIGEST, 'composure/shop-server:rollback'), ['docker', 'tag', DIGEST, 'composure/shop-server:rollback']);
    assert.deepEqual(tagImage('shop-traefik-server:latest', 'shop-traefik-server:composure-prev'), [
      'docker', 'tag', 'shop-traefik-server:latest', 'shop-traefik-server:composure-prev',
    ]);
    for (const bad of BAD_REFS) refuses(() => tagImage(bad, 'app:v2'), 'image reference or id');
    for (const bad of BAD_REFS) refuses(() => tagImage('app:v1', bad), 'image reference');
    refuses(() => tagImage('app:v1', DIGEST), 'image reference');
    refuses(() => tagImage('app:v1', `app@${DIGEST}`), 'image reference');
  });

  it('execInContainer', () => {
    assert.deepEqual(execInContainer(ID1, ['nginx', '-s', 'reload']), ['docker', 'exec', ID1, 'nginx', '-s', 'reload']);
    assert.deepEqual(execInContainer(ID2, ['sh', '-c', 'kill -HUP 1 && echo "ok $x"']), ['docker', 'exec', ID2, 'sh', '-c', 'kill -HUP 1 && echo "ok $x"']);
    for (const bad of BAD_IDS) refuses(() => execInContainer(bad, ['true']), 'container id');
    for (const bad of [[], ['-it', 'sh'], ['--privileged'], ['sh', 'a\nb'], ['sh', 'a\u0000b'], [asAny<string>(undefined)]]) {
      refuses(() => execInContainer(ID1, bad), 'command');
    }
  });

  it('signalContainer only sends allow-listed signals', () => {
    assert.deepEqual(signalContainer(ID1, 'HUP'), ['docker', 'kill', '--signal', 'HUP', ID1]);
    for (const signal of ALLOWED_SIGNALS) assert.deepEqual(signalContainer(ID2, signal), ['docker', 'kill', '--signal', signal, ID2]);
    assert.deepEqual([...ALLOWED_SIGNALS].sort(), ['HUP', 'INT', 'QUIT', 'TERM', 'USR1', 'USR2']);
    for (const bad of ['KILL', 'SIGKILL', '9', '15', 'HUP; x', 'hup', 'SIGHUP', 'STOP', '', ' HUP', 'HUP\n']) {
      refuses(() => signalContainer(ID1, asAny<ContainerSignal>(bad)), 'signal');
    }
    refuses(() => signalContainer(ID1, asAny<ContainerSignal>(9)), 'signal');
    for (const bad of BAD_IDS) refuses(() => signalContainer(bad, 'TERM'), 'container id');
  });

  it('dockerEvents', () => {
    const base = [
      'docker', 'events', '--format', '{{json .}}',
      '--filter', 'type=container',
      '--filter', 'label=com.docker.compose.project=shop-traefik',
      '--filter', 'event=health_status',
      '--filter', 'event=die',
      '--filter', 'event=start',
    ];
    assert.deepEqual(dockerEvents({ project: 'shop-traefik' }), base);
    assert.deepEqual(dockerEvents({ project: 'shop-traefik', sinceUnix: 1_700_000_000 }), [...base, '--since', '1700000000']);
    assert.deepEqual(dockerEvents({ project: 'shop-traefik', untilUnix: 1_700_000_100 }), [...base, '--until', '1700000100']);
    assert.deepEqual(dockerEvents({ project: 'shop-traefik', sinceUnix: 1_700_000_000, untilUnix: 1_700_000_000 }), [
      ...base, '--since', '1700000000', '--until', '1700000000',
    ]);
    for (const bad of HOSTILE) refuses(() => dockerEvents({ project: bad }), 'project name');
    for (const bad of [-1, 1.5, NaN, Infinity, 1e15, asAny<number>('1700000000'), asAny<number>('1h')]) {
      refuses(() => dockerEvents({ project: 'shop', sinceUnix: bad }), 'events since');
      refuses(() => dockerEvents({ project: 'shop', untilUnix: bad }), 'events until');
    }
    refuses(() => dockerEvents({ project: 'shop', sinceUnix: 200, untilUnix: 100 }), 'events until');
  });

  it('commandArgv accepts any text but NUL, CR and LF, and no leading "-"', () => {
    const argv = ['psql', '-c', "SELECT 1; -- '$(id)' `id` | & > *", '\t', ''];
    assert.deepEqual(commandArgv(argv), argv);
    refuses(() => commandArgv(['-c']), 'command');
    refuses(() => commandArgv([]), 'command');
  });
});

describe('git', () => {
  it('gitFetch', () => {
    assert.deepEqual(gitFetch('origin'), ['git', 'fetch', '--quiet', '--tags', '--force', '--prune', 'origin']);
    assert.deepEqual(gitFetch('origin', 'main'), ['git', 'fetch', '--quiet', '--tags', '--force', '--prune', 'origin', 'main']);
    assert.deepEqual(gitFetch('file:///home/deploy/origins/shop-traefik.git', 'feature/x'), [
      'git', 'fetch', '--quiet', '--tags', '--force', '--prune', 'file:///home/deploy/origins/shop-traefik.git', 'feature/x',
    ]);
    for (const bad of [...HOSTILE, '--upload-pack=evil', 'ext::sh -c id', 'ssh://-oProxyCommand=x/y']) refuses(() => gitFetch(bad), 'git remote');
    for (const bad of [...HOSTILE, '+main:main', 'main:refs/heads/x', '@{-1}', 'HEAD~1', 'v1^', 'x.lock']) refuses(() => gitFetch('origin', bad), 'git ref');
  });

  it('gitResolveCommit', () => {
    assert.deepEqual(gitResolveCommit('main'), ['git', 'rev-parse', '--verify', '--quiet', '--end-of-options', 'main^{commit}']);
    assert.deepEqual(gitResolveCommit('v1.2.3'), ['git', 'rev-parse', '--verify', '--quiet', '--end-of-options', 'v1.2.3^{commit}']);
    assert.deepEqual(gitResolveCommit(SHA), ['git', 'rev-parse', '--verify', '--quiet', '--end-of-options', `${SHA}^{commit}`]);
    for (const bad of [...HOSTILE, '@{-1}', 'HEAD', 'HEAD~1', 'v1^', 'main^{tree}', 'x.lock', 'a:b']) refuses(() => gitResolveCommit(bad), 'git ref');
  });

  it('gitHead and gitStatusPorcelain', () => {
    assert.deepEqual(gitHead(), ['git', 'rev-parse', 'HEAD']);
    assert.deepEqual(gitStatusPorcelain(), ['git', 'status', '--porcelain', '--untracked-files=no']);
  });

  it('gitCheckout takes an exact SHA only', () => {
    assert.deepEqual(gitCheckout(SHA), ['git', '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', SHA]);
    for (const bad of [...HOSTILE, 'main', 'v1.2.3', SHA.slice(0, 12), SHA.toUpperCase(), `${SHA}^`]) refuses(() => gitCheckout(bad), 'commit');
  });

  it('gitRemoteBranchHead', () => {
    assert.deepEqual(gitRemoteBranchHead('origin', 'main'), ['git', 'ls-remote', '--exit-code', 'origin', 'refs/heads/main']);
    assert.deepEqual(gitRemoteBranchHead('git@github.com:acme/shop.git', 'release/1.0'), [
      'git', 'ls-remote', '--exit-code', 'git@github.com:acme/shop.git', 'refs/heads/release/1.0',
    ]);
    for (const bad of [...HOSTILE, '--upload-pack=evil']) refuses(() => gitRemoteBranchHead(bad, 'main'), 'git remote');
    for (const bad of [...HOSTILE, '@{-1}', 'HEAD~1', 'v1^', 'x.lock', '*']) refuses(() => gitRemoteBranchHead('origin', bad), 'git ref');
  });
});

describe('every builder returns carriable argv', () => {
  it('no NUL, CR or LF in any element', () => {
    const all: string[][] = [
      compose(V2, 'ps'), composePs(V2), composeVersion(), composeVersionCommands().v1, composeConfig(V1),
      composeConfigHash(V2, ['server']), composeBuild(V2, ['server'], { pull: true }), composePull(V1, ['server']),
      composeScale(V2, 'server', 2), composeUpService(V1, 'server'), composeRun(V2, 'server', ['sh', '-c', 'echo hi']),
      listServiceContainers('shop', 'server'), inspectContainers([ID1]), stopContainers([ID1], 10), removeContainers([ID1]),
      forceRemoveContainers([ID1]), inspectImages([DIGEST]), tagImage(DIGEST, 'app:v1'), removeImages(['app:v1']),
      execInContainer(ID1, ['true']), signalContainer(ID1, 'TERM'), dockerEvents({ project: 'shop', sinceUnix: 1 }),
      gitFetch('origin', 'main'), gitResolveCommit('main'), gitHead(), gitCheckout(SHA), gitStatusPorcelain(), gitRemoteBranchHead('origin', 'main'),
    ];
    for (const argv of all) assertCarriable(argv);
  });
});
