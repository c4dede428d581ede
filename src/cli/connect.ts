/**
 * The Temporal connection for the CLI, from the standard environment
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or
 * a temporal.toml profile), and links into the Temporal UI.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DEFAULT_TASK_QUEUE } from '../messages';

export interface Temporal {
  client: Client;
  namespace: string;
  close(): Promise<void>;
}

export async function connectTemporal(): Promise<Temporal> {
  const config = loadClientConnectConfig();
  const connection = await Connection.connect(config.connectionOptions);
  const namespace = config.namespace ?? 'default';
  return { client: new Client({ connection, namespace }), namespace, close: () => connection.close() };
}

export function taskQueue(): string {
  return process.env.COMPOSURE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
}

/**
 * The UI's address: COMPOSURE_TEMPORAL_UI, else the dev server's convention
 * (gRPC port 7233 -> UI port 8233 on the same host).
 */
export function uiBase(): string {
  if (process.env.COMPOSURE_TEMPORAL_UI) return process.env.COMPOSURE_TEMPORAL_UI.replace(/\/+$/, '');
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const [host, port] = address.split(':');
  return `http://${host}:${port === '7233' ? '8233' : port}`;
}

export function runUrl(namespace: string, workflowId: string, runId: string): string {
  return `${uiBase()}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}
