import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

/**
 * A Temporal client from Temporal's standard environment configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE / temporal.toml);
 * localhost:7233 and namespace "default" when nothing is set.
 */
export async function connectTemporalClient(): Promise<{
  client: Client;
  namespace: string;
  close: () => Promise<void>;
}> {
  const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
  const address = connectionOptions.address ?? 'localhost:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions, address, connectTimeout: 5000 } as Parameters<
      typeof Connection.connect
    >[0]);
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${address} (namespace ${namespace}): ${(err as Error).message}\n` +
        'Start the local stack with `npx fleetops stack up`, or set TEMPORAL_ADDRESS / TEMPORAL_PROFILE for a real cluster.',
    );
  }
  return { client: new Client({ connection, namespace }), namespace, close: () => connection.close() };
}

export const TASK_QUEUE = () => process.env.FLEETOPS_TASK_QUEUE ?? 'fleetops';

/** Link to a workflow in the Temporal Web UI (FLEETOPS_TEMPORAL_UI_URL, or the local stack's UI). */
export function workflowUiUrl(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
