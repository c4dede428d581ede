/**
 * Smoke tests: every part of the rig is real and reachable the way Composure
 * will use it. A workflow on the Temporal server runs an activity that runs
 * `docker compose ps` on the VPS over SSH with the pinned host key; a wrong key
 * is refused; each fixture stack answers through its real proxy.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { inspectHostWorkflow } from '../../workflows';
import { createWorker } from '../../worker/create';
import { HostKeyVerificationError, LocalTransport, parsePublicKeyLine } from '../../src/transport';
import { resetStack } from '../support/deploy';
import { runLoad, formatReport } from '../support/load';
import { loadRig, rigClient, rigSshTransport, rigWorkerConnection, uniqueTaskQueue } from '../support/rig';

const rig = loadRig();

/** A freshly generated ed25519 key: certainly not the rig host's key. */
function strangerKey() {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const blob = Buffer.concat([
    Buffer.from([0, 0, 0, 11]),
    Buffer.from('ssh-ed25519'),
    Buffer.from([0, 0, 0, 32]),
    raw,
  ]);
  return parsePublicKeyLine(`ssh-ed25519 ${blob.toString('base64')}`);
}

describe('rig: Temporal + worker + SSH + Docker Compose', () => {
  let client: Awaited<ReturnType<typeof rigClient>>;
  before(async () => {
    client = await rigClient();
  });
  after(async () => {
    await client.close();
  });

  it('a workflow runs docker compose ps on the VPS over SSH with the pinned host key', async () => {
    const transport = rigSshTransport();
    const connection = await rigWorkerConnection();
    const taskQueue = uniqueTaskQueue('smoke');
    const worker = await createWorker({ connection, taskQueue, transport });
    const stack = rig.stacks.traefik;
    try {
      const result = await worker.runUntil(
        client.client.workflow.execute(inspectHostWorkflow, {
          taskQueue,
          workflowId: `smoke-inspect-${taskQueue}`,
          args: [{ name: stack.project, dir: stack.dir }],
        }),
      );
      // It ran as the VPS's deploy user (the tests run as root), through ssh.
      assert.equal(result.host.user, rig.ssh.username);
      assert.match(result.host.transport, /^ssh deploy@127\.0\.0\.1:\d+$/);
      assert.match(result.host.composeVersion, /^2\./, 'Compose v2 on the host');
      const byService = new Map(result.containers.map((c) => [c.service, c]));
      assert.deepEqual([...byService.keys()].sort(), ['client', 'proxy', 'server']);
      assert.equal(byService.get('server')?.state, 'running');
      assert.equal(byService.get('server')?.health, 'healthy');
      assert.equal(byService.get('client')?.health, 'healthy');
      assert.equal(byService.get('proxy')?.state, 'running');
      // The history really is on the server: it can be fetched back.
      const history = await client.client.workflow.getHandle(`smoke-inspect-${taskQueue}`).fetchHistory();
      assert.ok((history.events ?? []).length > 5);
    } finally {
      await transport.close();
      await connection.close();
    }
  });

  it('a host presenting a key other than the pinned one is refused, naming both fingerprints', async () => {
    const stranger = strangerKey();
    const pinnedElsewhere = rigSshTransport({ pinnedKeys: [stranger] });
    // OpenSSH's fingerprint: SHA256 of the key blob, base64 without padding (`ssh-keygen -lf`).
    const fingerprintOf = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
    const hostKeyBlob = Buffer.from(readFileSync(rig.ssh.hostKeyPath, 'utf8').trim().split(' ')[1]!, 'base64');
    await assert.rejects(pinnedElsewhere.exec(['true']), (err: unknown) => {
      assert.ok(err instanceof HostKeyVerificationError, String(err));
      assert.equal(err.message, `host key verification failed for 127.0.0.1:${rig.ssh.port}: it presented ${fingerprintOf(hostKeyBlob)}, pinned ${fingerprintOf(stranger.blob)}`);
      return true;
    });
    const nothingPinned = rigSshTransport({ pinnedKeys: [] });
    await assert.rejects(nothingPinned.exec(['true']), HostKeyVerificationError);
    await pinnedElsewhere.close();
    await nothingPinned.close();
  });

  it('a wrong host key fails the workflow at once, without retries', async () => {
    const transport = rigSshTransport({ pinnedKeys: [strangerKey()] });
    const connection = await rigWorkerConnection();
    const taskQueue = uniqueTaskQueue('smoke-badkey');
    const worker = await createWorker({ connection, taskQueue, transport });
    const stack = rig.stacks.traefik;
    try {
      await assert.rejects(
        worker.runUntil(
          client.client.workflow.execute(inspectHostWorkflow, {
            taskQueue,
            workflowId: `smoke-badkey-${taskQueue}`,
            args: [{ name: stack.project, dir: stack.dir }],
          }),
        ),
        (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError);
          const cause = err.cause as { cause?: { type?: string } } | undefined;
          assert.equal(cause?.cause?.type, 'HostKeyVerificationError');
          return true;
        },
      );
      const history = await client.client.workflow.getHandle(`smoke-badkey-${taskQueue}`).fetchHistory();
      const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
      assert.equal(attempts.length, 1, 'a non-retryable error is tried once');
    } finally {
      await transport.close();
      await connection.close();
    }
  });

  it('the local transport reaches the same Docker engine', async () => {
    const activities = createActivities(new LocalTransport());
    const stack = rig.stacks.nginx;
    const containers = await activities.composePs({ name: stack.project, dir: '/' });
    assert.deepEqual(containers.map((c) => c.service).sort(), ['client', 'proxy', 'server']);
    const facts = await activities.hostFacts();
    assert.equal(facts.transport, 'local');
  });

  it("the time-skipping test server from the rig starts (for workflow unit tests)", async () => {
    // The SDK waits only ~5 s for the server to listen; on a loaded 2-core machine
    // that is sometimes too short (rig-notes), so a slow start is tried again.
    let env: TestWorkflowEnvironment | undefined;
    for (let attempt = 1; !env; attempt++) {
      try {
        env = await TestWorkflowEnvironment.createTimeSkipping({
          server: { executable: { type: 'existing-path', path: rig.temporal.testServerPath } },
        });
      } catch (err) {
        if (attempt >= 3 || !/did not start within/.test(String(err))) throw err;
      }
    }
    try {
      const started = Date.now();
      await env.sleep('1 day');
      assert.ok(Date.now() - started < 10_000, 'a day passes in seconds: time really skips');
    } finally {
      await env.teardown();
    }
  });
});

describe('rig: fixture stacks answer through their real proxies', () => {
  // Other test files deploy to these stacks; this one checks v1 as the rig set it up.
  before(() => {
    resetStack('traefik');
    resetStack('nginx');
  });
  for (const name of ['traefik', 'nginx'] as const) {
    it(`${name}: server and client answer v1 under load, with no failures`, async () => {
      const stack = rig.stacks[name];
      const report = await runLoad({
        url: `${stack.url}/api/`,
        paths: ['/api/', '/', '/api/', '/', '/api/slow'],
        ratePerSecond: 50,
        durationMs: 2_000,
        timeoutMs: 5_000,
      });
      assert.equal(report.failed, 0, formatReport(report));
      assert.equal(report.retriedStaleConnections, 0, `nothing changes, so no keep-alive socket goes stale: ${formatReport(report)}`);
      assert.equal(report.versions.v1, report.ok, 'only v1 answers');
      // The slow endpoint really is slow: the proxy passes a 1 s request through.
      assert.ok(report.latencyMs.max >= 1000, formatReport(report));
    });
  }
});
