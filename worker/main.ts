/**
 * The production worker. Temporal connection from the standard environment
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a
 * TEMPORAL_PROFILE in temporal.toml), the host from COMPOSURE_* variables, the
 * prebuilt workflow bundle. SIGINT/SIGTERM drain running activities, then exit.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { parseDuration } from '../src/config/schema';
import { DEFAULT_TASK_QUEUE } from '../src/messages';
import { TransportPool } from '../src/transport';
import { createWorker } from './create';
import { transportFromEnv } from './transport-from-env';

/** COMPOSURE_SHUTDOWN_GRACE: "90s", "5m", "1h" or milliseconds. */
function shutdownGraceFromEnv(env: NodeJS.ProcessEnv = process.env): Duration | undefined {
  const text = env.COMPOSURE_SHUTDOWN_GRACE;
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`COMPOSURE_SHUTDOWN_GRACE is not a duration (e.g. 90s, 5m): ${JSON.stringify(text)}`);
  return ms;
}

export async function runWorker(): Promise<void> {
  const config = loadClientConnectConfig();
  // Hosts come from each deploy's target (by reference); their keys are read
  // here, relative to COMPOSURE_CONFIG_DIR. COMPOSURE_SSH_* name a default host.
  const pool = new TransportPool({ baseDir: process.env.COMPOSURE_CONFIG_DIR ?? process.cwd() }, () => transportFromEnv());
  const connection = await NativeConnection.connect(config.connectionOptions);
  const bundle = path.resolve(__dirname, '..', 'workflow-bundle.js');
  try {
    const worker = await createWorker({
      connection,
      namespace: config.namespace ?? 'default',
      taskQueue: process.env.COMPOSURE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      transport: (host) => pool.get(host),
      // Built by `npm run build`; when running from source, bundle on start-up.
      workflowBundlePath: existsSync(bundle) ? bundle : undefined,
      shutdownGraceTime: shutdownGraceFromEnv(),
    });
    console.log(`composure worker: task queue ${worker.options.taskQueue}, namespace ${worker.options.namespace}`);
    // Worker.run() resolves after the SDK's own SIGINT/SIGTERM handling has
    // stopped polling and let in-flight activities finish.
    await worker.run();
  } finally {
    await pool.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
