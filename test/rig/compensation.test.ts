/**
 * Compensation finishes what it can: the deploy workflow on Temporal's
 * time-skipping test server with fake activities (the workflow's decisions
 * are under test, not the host). One service's undo fails non-retryably: the
 * other service is still undone, the outcome is failed_compensation with
 * every failed undo listed and what runs on the host, and the lock is kept
 * and marked instead of released.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FakeHost, OLD_HEAD, fakeDeployInput, runFakeDeploy, timeSkippingEnv } from '../support/fake-deploy';

describe('compensation finishes what it can', { concurrency: false }, () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it("a failing undo of one service does not stop the other's; the lock stays, marked", async () => {
    const host = new FakeHost({ bakeFails: true, undoFailsFor: ['client'] });
    const { result } = await runFakeDeploy(env, host, fakeDeployInput('dfake000000000002'));
    assert.equal(result.outcome, 'failed_compensation', result.lastError);
    // client was deployed last, so undone first: its failure did not stop server's undo.
    assert.deepEqual(host.containers.server, ['restored-server-1'], 'server is back on its previous image, alone');
    assert.deepEqual(host.containers.client, ['new-client-1'], 'client could not be undone: the new one still runs');
    assert.equal(host.head, OLD_HEAD, 'the checkout is back');
    assert.deepEqual(result.undoFailures?.map((f) => [f.service, f.step]), [['client', 'undo']]);
    assert.match(result.undoFailures![0]!.error, /no space left on device/);
    assert.equal(result.services.server?.state, 'rolled-back');
    assert.equal(result.services.client?.state, 'rollback-failed');
    assert.match(result.onHost ?? '', /server: restored-server-1; client: new-client-1/);
    assert.match(result.lastError ?? '', /exited \(code 3\).*compensation failed: client \(undo\).*no space left/);
    // The lock is kept and says why; it is never released.
    assert.ok(!host.calls.includes('releaseLock'), host.calls.join(', '));
    assert.equal(host.lock?.state, 'failed_compensation');
    assert.match(host.lock?.reason ?? '', /client \(undo\).*on the host: checkout aaaaaaaaaaaa; server: restored-server-1/);
    assert.ok(host.calls.indexOf('startBeside client') < host.calls.lastIndexOf('startBeside server'), 'client first, then server');
  });

  it('a failing checkout back does not stop the services from being undone', async () => {
    const host = new FakeHost({ bakeFails: true, checkoutBackFails: true });
    const { result } = await runFakeDeploy(env, host, fakeDeployInput('dfake000000000003'));
    assert.equal(result.outcome, 'failed_compensation');
    assert.deepEqual(result.undoFailures?.map((f) => [f.service, f.step]), [['(source)', 'checkout']]);
    assert.deepEqual(host.containers, { server: ['restored-server-1'], client: ['restored-client-1'] });
    assert.equal(host.lock?.state, 'failed_compensation');
  });

  it('a compensation that finishes releases the lock (rolled_back)', async () => {
    const host = new FakeHost({ bakeFails: true });
    const { result } = await runFakeDeploy(env, host, fakeDeployInput('dfake000000000004'));
    assert.equal(result.outcome, 'rolled_back', result.lastError);
    assert.equal(result.undoFailures, undefined);
    assert.deepEqual(host.containers, { server: ['restored-server-1'], client: ['restored-client-1'] });
    assert.equal(host.lock, undefined);
    assert.ok(host.calls.includes('releaseLock'));
  });
});
