/**
 * The deploy workflow against fake activities, on Temporal's time-skipping
 * test server (the rig's `temporal-test-server`): for the workflow's own
 * decisions, such as what compensation does when an undo fails. The fake
 * host keeps just enough state (containers per service, the lock) to say
 * what a real one would run afterwards.
 */
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { ComposeModel } from '../../src/compose/model';
import { composeService } from './env-config';
import type { DeployInput, DeployResult, Snapshot } from '../../src/deploy/types';
import type { ServicePlan } from '../../src/plan/types';
import type { deployWorkflow } from '../../workflows/deploy/workflow';
import type { Rig } from './rig';

// Not ./rig's loadRig: importing it installs a Runtime, and this one drops the "Activity failed"
// warnings that every run here provokes on purpose. (So a test imports this or ./rig, not both.)
Runtime.install({
  logger: new DefaultLogger('WARN', (entry) => {
    if (entry.message !== 'Activity failed') console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
  }),
});

function testServerPath(): string {
  const file = `${process.env.COMPOSURE_RIG_DIR ?? '/var/lib/composure-rig'}/rig.json`;
  return (JSON.parse(readFileSync(file, 'utf8')) as Rig).temporal.testServerPath;
}

const DIR = '/home/deploy/apps/shop';
export const OLD_HEAD = 'a'.repeat(40);
export const NEW_COMMIT = 'b'.repeat(40);

const builtService = (name: string) => composeService(name, { buildContext: `${DIR}/${name}` });

function servicePlan(service: string): ServicePlan {
  return {
    service,
    action: 'deploy',
    strategy: 'start-first',
    change: 'changed',
    changeReason: `files under ${service}/ changed`,
    reasons: [`files under ${service}/ changed`],
    warnings: [],
    isProxy: false,
    replicas: 1,
    parallelism: 1,
    batchDelayMs: 0,
    monitorMs: 0,
    health: { kind: 'docker', timeoutMs: 60_000 },
    drainMs: 5_000,
    stopGraceMs: 10_000,
  };
}

/** A git deploy of `server` then `client` to a new commit, with a bake window (which the fakes can fail). */
export function fakeDeployInput(deployId = 'dfake000000000001'): DeployInput {
  return {
    deployId,
    ref: 'v2',
    target: {
      environment: 'fake',
      host: { kind: 'local' },
      directory: DIR,
      projectName: 'shop',
      composeFiles: [],
      source: { kind: 'git', remote: 'origin', branch: 'main' },
      proxy: { service: 'proxy', switch: { kind: 'none' } },
      hooks: { preDeploy: [], postDeploy: [] },
      retention: { releases: 5 },
      composeVariant: 'v2',
    },
    plan: {
      environment: 'fake',
      project: 'shop',
      directory: DIR,
      host: 'local',
      ref: { requested: 'v2', commit: NEW_COMMIT },
      services: [servicePlan('server'), servicePlan('client')],
      refused: false,
      noop: false,
    },
    bakeMs: 10_000,
    requestedBy: 'fake-test',
  };
}

export interface FakeFaults {
  /** The bake window sees the new server exit: the deploy compensates. */
  bakeFails?: boolean;
  /** Services whose undo (bringing the previous image back) fails, non-retryably. */
  undoFailsFor?: string[];
  /** Checking the previous commit out again fails, non-retryably. */
  checkoutBackFails?: boolean;
}

/** The fake host: containers per service, the checkout, the lock, and every activity call in order. */
export class FakeHost {
  containers: Record<string, string[]> = { server: ['old-server-1'], client: ['old-client-1'] };
  head = OLD_HEAD;
  lock: { deployId: string; state: 'held' | 'failed_compensation'; reason?: string } | undefined;
  calls: string[] = [];
  private compensating = false;

  constructor(private readonly faults: FakeFaults = {}) {}

  private fail(type: string, message: string): never {
    throw ApplicationFailure.create({ type, message, nonRetryable: true });
  }

  activities(): Partial<Activities> {
    const compose: ComposeModel = { name: 'shop', services: { server: builtService('server'), client: builtService('client') } };
    const log = (call: string) => this.calls.push(call);
    return {
      acquireLock: async (_target, holder) => {
        log('acquireLock');
        this.lock = { deployId: holder.deployId, state: 'held' };
      },
      releaseLock: async (_target, deployId) => {
        log('releaseLock');
        if (this.lock?.deployId === deployId) this.lock = undefined;
      },
      markLockFailed: async (_target, deployId, reason) => {
        log('markLockFailed');
        if (this.lock?.deployId !== deployId) return { marked: false, note: 'not this deploy' };
        this.lock = { deployId, state: 'failed_compensation', reason };
        return { marked: true };
      },
      snapshot: async (): Promise<Snapshot> => {
        log('snapshot');
        const running = Object.fromEntries(Object.entries(this.containers).map(([s, ids]) => [s, { containers: ids.length, containerIds: ids, imageId: `sha256:old-${s}` }]));
        const services = Object.fromEntries(Object.entries(this.containers).map(([s, ids]) => [s, { containerIds: ids, imageId: `sha256:old-${s}`, imageRef: `shop-${s}` }]));
        return { compose, running, services };
      },
      resolveSource: async () => {
        log('resolveSource');
        return { head: this.head, commit: NEW_COMMIT };
      },
      checkout: async (_target, commit) => {
        log(`checkout ${commit.slice(0, 1)}`);
        if (commit === OLD_HEAD && this.faults.checkoutBackFails) this.fail('CheckoutFailedError', 'git checkout: index.lock exists');
        this.head = commit;
      },
      inspectTarget: async (_target, services) => {
        log('inspectTarget');
        return { compose, images: Object.fromEntries(services.map((s) => [s, `sha256:new-${s}`])) };
      },
      build: async () => {
        log('build');
      },
      retagImage: async (_target, _imageId, imageRef) => {
        log(`retagImage ${imageRef}`);
      },
      listContainers: async (_target, service) => [...(this.containers[service] ?? [])],
      startBeside: async (_target, service, _oldIds, replicas) => {
        log(`startBeside ${service}`);
        if (this.compensating && this.faults.undoFailsFor?.includes(service)) this.fail('UndoFailedError', `${service}: docker: no space left on device`);
        const made = Array.from({ length: replicas }, (_, i) => `${this.compensating ? 'restored' : 'new'}-${service}-${i + 1}`);
        this.containers[service] = [...(this.containers[service] ?? []), ...made];
        return made;
      },
      waitHealthy: async (_target, ids) => ids.map((id) => ({ id, imageId: 'sha256:x', state: 'running', health: 'healthy', restartCount: 0, exitCode: 0, ips: [] })),
      watchHealthy: async (_target, ids) => {
        log('watchHealthy');
        // The bake window, not a drain: the old containers are gone by then.
        const baking = !Object.values(this.containers).some((list) => list.some((id) => id.startsWith('old-')));
        if (this.faults.bakeFails && baking && ids.some((id) => id.startsWith('new-server'))) {
          this.compensating = true;
          this.fail('HealthCheckFailedError', `${ids[0]} exited (code 3) during the bake window`);
        }
      },
      switchTraffic: async () => ({}),
      holdRestarts: async (_target, ids) => {
        log(`holdRestarts ${ids.join(',')}`);
      },
      stopAndRemove: async (_target, ids) => {
        log(`stopAndRemove ${ids.join(',')}`);
        for (const service of Object.keys(this.containers)) this.containers[service] = this.containers[service]!.filter((id) => !ids.includes(id));
      },
      retireOld: async (_target, _service, ids) => {
        log(`retireOld ${ids.join(',')}`);
        for (const service of Object.keys(this.containers)) this.containers[service] = this.containers[service]!.filter((id) => !ids.includes(id));
        return {};
      },
      recordRelease: async () => {
        log('recordRelease');
      },
      describeHost: async () => {
        log('describeHost');
        return `checkout ${this.head.slice(0, 12)}; ${Object.entries(this.containers).map(([s, ids]) => `${s}: ${ids.join(',')}`).join('; ')}`;
      },
    };
  }
}

/** The time-skipping server from the rig (a day passes in milliseconds), with Composure's search attributes. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  let env: TestWorkflowEnvironment | undefined;
  for (let attempt = 1; !env; attempt++) {
    try {
      env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
    } catch (err) {
      if (attempt >= 3 || !/did not start within/.test(String(err))) throw err;
    }
  }
  const { INDEXED_VALUE_TYPE_KEYWORD: keyword, INDEXED_VALUE_TYPE_KEYWORD_LIST: keywordList } = temporal.api.enums.v1.IndexedValueType;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: { ComposureEnvironment: keyword, ComposureRef: keyword, ComposureStatus: keyword, ComposureServices: keywordList },
  });
  return env;
}

/** Runs one deploy workflow against `host`'s fakes; resolves with its result and its history (JSON, as recorded fixtures are). */
export async function runFakeDeploy(env: TestWorkflowEnvironment, host: FakeHost, input = fakeDeployInput()): Promise<{ result: DeployResult; history: string }> {
  const taskQueue = `fake-deploy-${process.pid}-${Date.now().toString(36)}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('../../workflows'), activities: host.activities() });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof deployWorkflow>('deployWorkflow', { taskQueue, workflowId: `composure-deploy-fake-${input.deployId}`, args: [input] });
    const result = await handle.result();
    const { historyToJSON } = await import('@temporalio/common/lib/proto-utils');
    return { result, history: historyToJSON(await handle.fetchHistory()) };
  });
}
