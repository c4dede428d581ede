import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvironmentConfig } from '../../src/config/types';
import { composeService, envConfig } from '../support/env-config';
import type { ComposeModel, ComposeService } from '../../src/compose/model';
import { plan, type PlanInput } from '../../src/plan/planner';
import { PlanError, dependencyOrder, deployOrder } from '../../src/plan/order';
import { formatPlan } from '../../src/plan/format';
import type { ChangeEvidence, Plan, RunningService, ServicePlan } from '../../src/plan/types';

// ---- fixtures: the rig's "shop" stack (server, client, proxy) ------------------------------

const DIR = '/home/deploy/apps/shop';

const service = composeService;

/** The fixture stack; `patch` changes or adds services. */
function composeModel(patch: Record<string, Partial<ComposeService>> = {}): ComposeModel {
  const services: Record<string, ComposeService> = {
    server: service('server', { buildContext: `${DIR}/server`, stopGraceMs: 30_000 }),
    client: service('client', { buildContext: `${DIR}/client`, dependsOn: ['server'], stopGraceMs: 30_000 }),
    proxy: service('proxy', {
      image: 'traefik:3.7.15',
      ports: [{ hostIp: '127.0.0.1', published: '18080', target: 80 }],
      volumes: [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', readOnly: true }],
    }),
  };
  for (const [name, fields] of Object.entries(patch)) {
    services[name] = { ...(services[name] ?? service(name)), ...fields };
  }
  return { name: 'shop', services };
}

/** git checkout evidence, the same for every service (as the deploy computes it). */
function files(changedFiles: string[], more: Partial<Extract<ChangeEvidence, { kind: 'files' }>> = {}): ChangeEvidence {
  return { kind: 'files', changedFiles, composeFilesChanged: [], changedDefinitions: [], otherComposeChanges: false, ...more };
}

/** Everything running, one container each, images with a HEALTHCHECK (like the fixture app). */
function input(
  opts: { env?: EnvironmentConfig; compose?: ComposeModel; evidence?: ChangeEvidence; changes?: Record<string, ChangeEvidence>; running?: Record<string, RunningService> } = {},
): PlanInput {
  const compose = opts.compose ?? composeModel();
  const names = Object.keys(compose.services);
  const evidence = opts.evidence ?? files(['server/VERSION']);
  return {
    env: opts.env ?? envConfig(),
    compose,
    running: { ...Object.fromEntries(names.map((n) => [n, { containers: 1, imageId: `sha256:${n}-old`, imageHealthcheck: true }])), ...opts.running },
    changes: { ...Object.fromEntries(names.map((n) => [n, evidence])), ...opts.changes },
    ref: { requested: 'v2', commit: '0123456789abcdef0123456789abcdef01234567' },
  };
}

function get(p: Plan, name: string): ServicePlan {
  const found = p.services.find((s) => s.service === name);
  assert.ok(found, `no plan for ${name}`);
  return found;
}

const reasons = (s: ServicePlan) => s.reasons.join(' | ');
const warnings = (s: ServicePlan) => s.warnings.join(' | ');

/** A plan where only `server` changes, with `fields` patched into server's compose definition. */
function planServer(fields: Partial<ComposeService>, env: Partial<EnvironmentConfig> = {}): ServicePlan {
  return get(plan(input({ env: envConfig(env), compose: composeModel({ server: fields }) })), 'server');
}

// ---- order -----------------------------------------------------------------------------------

describe('order', () => {
  test('depends_on order, the proxy last', () => {
    assert.deepEqual(
      plan(input()).services.map((s) => s.service),
      ['server', 'client', 'proxy'],
    );
    // "worker" sorts after "proxy", yet the proxy still goes last.
    assert.deepEqual(deployOrder(composeModel({ worker: { image: 'worker' } }), undefined, 'proxy'), ['server', 'client', 'worker', 'proxy']);
    assert.deepEqual(dependencyOrder(composeModel({ worker: { image: 'worker' } })), ['server', 'client', 'proxy', 'worker']);
  });

  test('a configured order wins; services it leaves out follow in dependency order', () => {
    const p = plan(input({ env: envConfig({ order: ['client', 'proxy'] }) }));
    assert.deepEqual(
      p.services.map((s) => s.service),
      ['client', 'server', 'proxy'],
    );
  });

  test('unknown names in order, an unknown proxy.service and depends_on cycles are PlanErrors', () => {
    assert.throws(() => plan(input({ env: envConfig({ order: ['server', 'api'] }) })), (e: unknown) => e instanceof PlanError && /"api"/.test(e.message));
    assert.throws(
      () => plan(input({ env: envConfig({ proxy: { service: 'traefik', switch: { kind: 'traefik' } } }) })),
      (e: unknown) => e instanceof PlanError && /proxy\.service "traefik"/.test(e.message),
    );
    const cyclic = composeModel({ server: { dependsOn: ['client'] } });
    assert.throws(() => plan(input({ compose: cyclic })), (e: unknown) => e instanceof PlanError && /cycle: client -> server -> client/.test(e.message));
  });

  test('depends_on on a service not in the model (e.g. another profile) is ignored', () => {
    assert.deepEqual(dependencyOrder(composeModel({ server: { dependsOn: ['db'] } })), ['server', 'client', 'proxy']);
  });

  test('proxy switch traefik without proxy.service is a PlanError; switch none needs no proxy', () => {
    assert.throws(() => plan(input({ env: envConfig({ proxy: { switch: { kind: 'traefik' } } }) })), (e: unknown) => e instanceof PlanError && /proxy\.service/.test(e.message));
    const p = plan(input({ env: envConfig({ proxy: { switch: { kind: 'none' } } }) }));
    assert.equal(get(p, 'proxy').isProxy, false);
  });
});

// ---- change evidence -------------------------------------------------------------------------

describe('files evidence', () => {
  test('server/VERSION changed: server deploys start-first, client is skipped, the proxy kept', () => {
    const p = plan(input({ evidence: files(['server/VERSION']) }));
    const server = get(p, 'server');
    assert.equal(server.action, 'deploy');
    assert.equal(server.strategy, 'start-first');
    assert.equal(server.change, 'changed');
    assert.match(server.changeReason, /server\//);
    assert.match(server.changeReason, /server\/VERSION/);
    assert.match(reasons(server), /start-first: a new container starts beside the old/);
    assert.deepEqual(server.warnings, []);

    const client = get(p, 'client');
    assert.equal(client.action, 'skip');
    assert.equal(client.change, 'unchanged');
    assert.match(client.changeReason, /nothing under client\//);
    assert.equal(client.strategy, undefined);

    const proxy = get(p, 'proxy');
    assert.equal(proxy.action, 'keep');
    assert.equal(proxy.isProxy, true);
    assert.equal(proxy.change, 'unchanged');
    assert.match(reasons(proxy), /127\.0\.0\.1:18080/);
    assert.deepEqual(proxy.warnings, []);
  });

  test('a path that only shares a prefix with the build context is not under it', () => {
    const p = plan(input({ evidence: files(['server-old/VERSION', 'README.md']) }));
    assert.equal(get(p, 'server').action, 'skip');
    assert.equal(p.noop, true);
  });

  test('a compose file change to the server definition only: server changed, client unchanged', () => {
    const evidence = files(['docker-compose.yml'], { composeFilesChanged: ['docker-compose.yml'], changedDefinitions: ['server'] });
    const p = plan(input({ evidence }));
    assert.equal(get(p, 'server').change, 'changed');
    assert.match(get(p, 'server').changeReason, /definition in docker-compose\.yml/);
    assert.equal(get(p, 'server').action, 'deploy');
    assert.equal(get(p, 'client').change, 'unchanged');
    assert.equal(get(p, 'client').action, 'skip');
    assert.equal(get(p, 'proxy').action, 'keep');
  });

  test('compose changes outside the services: built services "maybe", deployed "(if its image changed)"', () => {
    const evidence = files(['docker-compose.yml'], { composeFilesChanged: ['docker-compose.yml'], otherComposeChanges: true });
    const p = plan(input({ evidence }));
    for (const name of ['server', 'client']) {
      const s = get(p, name);
      assert.equal(s.change, 'maybe', name);
      assert.equal(s.action, 'deploy', name);
      assert.equal(s.strategy, 'start-first', name);
      assert.match(reasons(s), /\(if its image changed\)/, name);
      assert.match(s.changeReason, /compared by image after the build/, name);
    }
    const proxy = get(p, 'proxy');
    assert.equal(proxy.change, 'maybe');
    assert.equal(proxy.action, 'keep');
    assert.match(warnings(proxy), /if its definition did change/);
  });

  test('no evidence at all: "maybe", decided after the build', () => {
    const p = plan({ ...input(), changes: {} });
    assert.equal(get(p, 'server').change, 'maybe');
    assert.match(get(p, 'server').changeReason, /not compared yet/);
  });
});

describe('image and tag evidence', () => {
  test('same image id: skip; different: deploy', () => {
    const p = plan(
      input({
        changes: {
          server: { kind: 'image', currentImageId: 'sha256:aaaaaaaaaaaaaaaa', nextImageId: 'sha256:bbbbbbbbbbbbbbbb' },
          client: { kind: 'image', currentImageId: 'sha256:cccccccccccccccc', nextImageId: 'sha256:cccccccccccccccc' },
        },
      }),
    );
    const server = get(p, 'server');
    assert.equal(server.change, 'changed');
    assert.equal(server.action, 'deploy');
    assert.match(server.changeReason, /bbbbbbbbbbbb/);
    const client = get(p, 'client');
    assert.equal(client.change, 'unchanged');
    assert.equal(client.action, 'skip');
    assert.match(client.changeReason, /image unchanged/);
  });

  test('not running (no containers): changed, whatever the evidence says', () => {
    const p = plan(
      input({
        changes: { client: { kind: 'image', currentImageId: 'sha256:same', nextImageId: 'sha256:same' } },
        running: { client: { containers: 0 } },
      }),
    );
    const client = get(p, 'client');
    assert.equal(client.change, 'changed');
    assert.match(client.changeReason, /not running/);
    assert.equal(client.action, 'deploy');
  });

  test('tag evidence: a new tag deploys; the same tag is pulled and decided by image (tags can move)', () => {
    const p = plan(
      input({
        changes: {
          server: { kind: 'tag', currentImage: 'shop/server:v1', nextImage: 'shop/server:v2' },
          client: { kind: 'tag', currentImage: 'shop/client:v2', nextImage: 'shop/client:v2' },
        },
      }),
    );
    assert.equal(get(p, 'server').action, 'deploy');
    assert.match(get(p, 'server').changeReason, /shop\/server:v1 -> shop\/server:v2/);
    assert.equal(get(p, 'client').change, 'maybe');
    assert.match(get(p, 'client').changeReason, /same image reference shop\/client:v2: pulled/);
    assert.equal(get(p, 'client').action, 'deploy');
  });
});

// ---- strategy --------------------------------------------------------------------------------

describe('start-first blockers', () => {
  const published = { ports: [{ hostIp: '', published: '8080', target: 8080 }] };

  test('a published host port on a non-proxy service: refused, naming the port and allow_downtime', () => {
    const server = planServer(published);
    assert.equal(server.action, 'refuse');
    assert.equal(server.strategy, undefined);
    assert.match(reasons(server), /host port 8080/);
    assert.match(reasons(server), /services\.server\.allow_downtime: true/);
  });

  test('with allowDowntime (environment or service): stop-first with a downtime warning', () => {
    for (const env of [{ allowDowntime: true }, { services: { server: { allowDowntime: true } } }]) {
      const server = planServer(published, env);
      assert.equal(server.action, 'deploy');
      assert.equal(server.strategy, 'stop-first');
      assert.match(reasons(server), /start-first is impossible/);
      assert.match(reasons(server), /host port 8080/);
      assert.match(warnings(server), /downtime/);
    }
    // A service-level "no" overrides the environment's "yes".
    assert.equal(planServer(published, { allowDowntime: true, services: { server: { allowDowntime: false } } }).action, 'refuse');
  });

  test('the host address is named when there is one', () => {
    assert.match(reasons(planServer({ ports: [{ hostIp: '127.0.0.1', published: '9000', target: 80 }] })), /127\.0\.0\.1:9000/);
  });

  test('container_name: refused, or stop-first with allowDowntime', () => {
    const refused = planServer({ containerName: 'shop-server' });
    assert.equal(refused.action, 'refuse');
    assert.match(reasons(refused), /container_name "shop-server"/);
    const allowed = planServer({ containerName: 'shop-server' }, { allowDowntime: true });
    assert.equal(allowed.action, 'deploy');
    assert.equal(allowed.strategy, 'stop-first');
    assert.match(warnings(allowed), /downtime/);
  });

  test('a writable named volume blocks start-first unless shared_volumes', () => {
    const volumes = [{ type: 'volume', source: 'uploads', target: '/uploads', readOnly: false }];
    const refused = planServer({ volumes });
    assert.equal(refused.action, 'refuse');
    assert.match(reasons(refused), /named volume "uploads"/);
    assert.match(reasons(refused), /shared_volumes/);
    const shared = planServer({ volumes }, { services: { server: { sharedVolumes: true } } });
    assert.equal(shared.action, 'deploy');
    assert.equal(shared.strategy, 'start-first');
  });

  test('read-only named volumes, bind mounts and tmpfs do not block', () => {
    const server = planServer({
      volumes: [
        { type: 'volume', source: 'assets', target: '/assets', readOnly: true },
        { type: 'bind', source: `${DIR}/data`, target: '/data', readOnly: false },
        { type: 'tmpfs', source: '', target: '/tmp', readOnly: false },
      ],
    });
    assert.equal(server.action, 'deploy');
    assert.equal(server.strategy, 'start-first');
  });

  test('every blocker is listed', () => {
    const server = planServer({ containerName: 'shop-server', ...published });
    assert.match(reasons(server), /host port 8080.*; container_name/);
  });
});

describe('explicit strategy', () => {
  test('services.X.strategy: stop-first deploys stop-first with downtime, without any blocker', () => {
    const server = get(plan(input({ env: envConfig({ services: { server: { strategy: 'stop-first' } } }) })), 'server');
    assert.equal(server.action, 'deploy');
    assert.equal(server.strategy, 'stop-first');
    assert.match(reasons(server), /services\.server\.strategy/);
    assert.match(warnings(server), /downtime/);
  });

  test('update_config.order: stop-first in compose does the same, naming update_config', () => {
    const server = planServer({ updateConfig: { order: 'stop-first', parallelism: 1, delayMs: 0, monitorMs: 0, failureAction: 'rollback' } });
    assert.equal(server.action, 'deploy');
    assert.equal(server.strategy, 'stop-first');
    assert.match(reasons(server), /update_config/);
    assert.match(warnings(server), /downtime/);
  });

  test('composure.yml strategy wins over update_config.order', () => {
    const server = planServer(
      { updateConfig: { order: 'stop-first', parallelism: 1, delayMs: 0, monitorMs: 0, failureAction: 'rollback' } },
      { services: { server: { strategy: 'start-first' } } },
    );
    assert.equal(server.strategy, 'start-first');
  });

  test('strategy: start-first with a blocker is refused, even with allowDowntime', () => {
    const server = planServer({ containerName: 'shop-server' }, { allowDowntime: true, services: { server: { strategy: 'start-first' } } });
    assert.equal(server.action, 'refuse');
    assert.match(reasons(server), /start-first is requested by services\.server\.strategy/);
    assert.match(reasons(server), /impossible/);
  });
});

describe('proxy', () => {
  const proxyChanged = files(['docker-compose.yml'], { composeFilesChanged: ['docker-compose.yml'], changedDefinitions: ['proxy'] });

  test('unchanged: kept', () => {
    assert.equal(get(plan(input()), 'proxy').action, 'keep');
  });

  test('its own definition changed: refused unless allowDowntime', () => {
    const refused = get(plan(input({ evidence: proxyChanged })), 'proxy');
    assert.equal(refused.change, 'changed');
    assert.equal(refused.action, 'refuse');
    assert.match(reasons(refused), /proxy's own definition changed/);
    assert.match(reasons(refused), /allow_downtime/);

    const allowed = get(plan(input({ evidence: proxyChanged, env: envConfig({ allowDowntime: true }) })), 'proxy');
    assert.equal(allowed.action, 'deploy');
    assert.equal(allowed.strategy, 'stop-first');
    assert.match(warnings(allowed), /downtime/);
    assert.match(warnings(allowed), /127\.0\.0\.1:18080/);
  });

  test('the proxy is never blocked by its own published port when unchanged', () => {
    const p = plan(input({ evidence: files(['server/VERSION']) }));
    assert.equal(p.refused, false);
  });
});

test('skip: true in composure.yml skips a changed service', () => {
  const server = get(plan(input({ env: envConfig({ services: { server: { skip: true } } }) })), 'server');
  assert.equal(server.action, 'skip');
  assert.equal(server.change, 'changed');
  assert.match(reasons(server), /skip: true/);
});

// ---- health and rollout parameters -----------------------------------------------------------

describe('health', () => {
  test('a compose healthcheck or the running image\'s HEALTHCHECK: "docker"', () => {
    assert.equal(get(plan(input()), 'server').health.kind, 'docker');
    const compose = composeModel({ server: { healthcheck: { disabled: false, test: ['CMD', '/app', '-healthcheck'] } } });
    const p = plan(input({ compose, running: { server: { containers: 1, imageHealthcheck: false } } }));
    assert.equal(get(p, 'server').health.kind, 'docker');
    assert.equal(get(p, 'server').health.timeoutMs, 120_000);
  });

  test('healthcheck disabled (or none at all): "running", with a "no healthcheck" warning', () => {
    const disabled = planServer({ healthcheck: { disabled: true, test: [] } });
    assert.equal(disabled.health.kind, 'running');
    assert.match(warnings(disabled), /no healthcheck/);
    const none = get(plan(input({ running: { server: { containers: 1, imageHealthcheck: false } } })), 'server');
    assert.equal(none.health.kind, 'running');
    assert.match(warnings(none), /no healthcheck/);
  });

  test('health.http configured for the environment or the service: "http" with path and port', () => {
    const http = { path: '/health', port: 8080, expectStatus: 200 };
    const fromEnv = get(plan(input({ env: envConfig({ health: { timeoutMs: 120_000, http } }) })), 'server');
    assert.deepEqual(fromEnv.health, { kind: 'http', timeoutMs: 120_000, httpPath: '/health', httpPort: 8080 });
    const fromService = get(plan(input({ env: envConfig({ services: { server: { health: { http: { ...http, path: '/api/health' } } } } }) })), 'server');
    assert.deepEqual(fromService.health, { kind: 'http', timeoutMs: 120_000, httpPath: '/api/health', httpPort: 8080 });
  });

  test('a per-service health timeout wins over the environment\'s', () => {
    const p = plan(input({ env: envConfig({ services: { server: { health: { timeoutMs: 30_000 } } } }) }));
    assert.equal(get(p, 'server').health.timeoutMs, 30_000);
    assert.equal(get(p, 'client').health.timeoutMs, 120_000);
  });
});

describe('rollout parameters', () => {
  test('replicas, parallelism, delay and monitor come from deploy.update_config', () => {
    const server = planServer({ replicas: 3, updateConfig: { parallelism: 2, delayMs: 5_000, monitorMs: 30_000, failureAction: 'rollback' } });
    assert.equal(server.replicas, 3);
    assert.equal(server.parallelism, 2);
    assert.equal(server.batchDelayMs, 5_000);
    assert.equal(server.monitorMs, 30_000);
    assert.match(reasons(server), /3 new containers, 2 at a time with 5s between batches/);
    assert.match(reasons(server), /stay healthy for 30s/);
  });

  test('parallelism is capped at replicas', () => {
    const server = planServer({ replicas: 2, updateConfig: { parallelism: 5, delayMs: 0, monitorMs: 0, failureAction: 'rollback' } });
    assert.equal(server.parallelism, 2);
    assert.match(reasons(server), /2 new containers start beside the old, take traffic/);
    assert.doesNotMatch(reasons(server), /at a time/);
  });

  test('drain comes from the environment unless the service overrides it; stop grace from compose', () => {
    const p = plan(input({ env: envConfig({ services: { client: { drainMs: 1_000 } } }) }));
    assert.equal(get(p, 'server').drainMs, 5_000);
    assert.equal(get(p, 'client').drainMs, 1_000);
    assert.equal(get(p, 'server').stopGraceMs, 30_000);
    assert.match(reasons(get(p, 'server')), /drains 5s and stops within 30s/);
  });

  test('failure_action pause: warned as "treated as rollback"', () => {
    const server = planServer({ updateConfig: { parallelism: 1, delayMs: 0, monitorMs: 0, failureAction: 'pause' } });
    assert.equal(server.action, 'deploy');
    assert.match(warnings(server), /failure_action: pause is treated as rollback/);
  });
});

// ---- the plan as a whole ---------------------------------------------------------------------

describe('plan', () => {
  test('refused iff a service is refused; noop iff nothing deploys', () => {
    const deploying = plan(input());
    assert.equal(deploying.refused, false);
    assert.equal(deploying.noop, false);

    const nothing = plan(input({ evidence: files(['README.md']) }));
    assert.equal(nothing.refused, false);
    assert.equal(nothing.noop, true);
    assert.ok(nothing.services.every((s) => s.action === 'skip' || s.action === 'keep'));

    const refused = plan(input({ compose: composeModel({ server: { containerName: 'shop-server' } }) }));
    assert.equal(refused.refused, true);
    assert.equal(refused.noop, true, 'the refused server was the only change');

    const refusedAndDeploying = plan(input({ evidence: files(['server/VERSION', 'client/VERSION']), compose: composeModel({ server: { containerName: 'shop-server' } }) }));
    assert.equal(refusedAndDeploying.refused, true);
    assert.equal(refusedAndDeploying.noop, false);
  });

  test('header fields come from the environment', () => {
    const p = plan(input());
    assert.equal(p.environment, 'production');
    assert.equal(p.project, 'shop');
    assert.equal(p.directory, DIR);
    assert.equal(p.host, 'ssh deploy@127.0.0.1:2222');
    assert.equal(plan(input({ env: envConfig({ host: { kind: 'local' } }) })).host, 'local');
  });

  test('deterministic: the same input gives the same plan', () => {
    const a = input({ evidence: files(['server/VERSION', 'client/app.go']) });
    const b = input({ evidence: files(['server/VERSION', 'client/app.go']) });
    assert.deepEqual(plan(a), plan(b));
    assert.deepEqual(plan(a), plan(a));
  });
});

describe('formatPlan', () => {
  test('each service with its action, the why lines, warnings and "Will deploy"', () => {
    const p = plan(input({ compose: composeModel({ server: { updateConfig: { parallelism: 1, delayMs: 0, monitorMs: 0, failureAction: 'pause' } } }) }));
    const text = formatPlan(p);
    assert.match(text, /^Plan for production to v2 \(0123456789ab\): project shop in \/home\/deploy\/apps\/shop on ssh deploy@127\.0\.0\.1:2222$/m);
    assert.match(text, /^ +server +DEPLOY START-FIRST$/m);
    assert.match(text, /^ +client +SKIP$/m);
    assert.match(text, /^ +proxy +KEEP +\(proxy\)$/m);
    assert.match(text, /change: changed — files under server\/ changed: server\/VERSION/);
    assert.match(text, /why: start-first: a new container/);
    assert.match(text, /why: unchanged, so it is left running/);
    assert.match(text, /health: Docker healthcheck \(timeout 2m\); replicas 1/);
    assert.match(text, /warning: update_config\.failure_action: pause/);
    assert.equal(text.split('\n').at(-1), 'Will deploy: server.');
  });

  test('"Nothing to deploy" and "Refused: …" final lines', () => {
    assert.match(formatPlan(plan(input({ evidence: files([]) }))).split('\n').at(-1) ?? '', /^Nothing to deploy/);
    const refused = formatPlan(plan(input({ compose: composeModel({ server: { containerName: 'shop-server' } }) })));
    assert.match(refused, /^ +server +REFUSE$/m);
    assert.match(refused.split('\n').at(-1) ?? '', /^Refused: server cannot be deployed/);
  });

  test('stop-first and HTTP health are shown', () => {
    const env = envConfig({ services: { server: { strategy: 'stop-first', health: { http: { path: '/health', port: 8080, expectStatus: 200 } } } } });
    const text = formatPlan(plan(input({ env })));
    assert.match(text, /^ +server +DEPLOY STOP-FIRST$/m);
    assert.match(text, /health: HTTP GET :8080\/health \(timeout 2m\)/);
    assert.match(text, /warning: downtime/);
  });
});

describe('step timeouts', () => {
  test('a stop_grace_period longer than a graceful stop may take is refused, by service', () => {
    const s = planServer({ stopGraceMs: 2 * 3_600_000 });
    assert.equal(s.action, 'refuse');
    assert.match(reasons(s), /stop_grace_period of server is 2h, above the 1h a graceful stop may take/);
    assert.equal(planServer({ stopGraceMs: 3_600_000 }).action, 'deploy');
  });
});
