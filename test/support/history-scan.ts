import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

/**
 * Fetches the full history of every workflow execution on the server (all runs) and returns each as
 * JSON text, for scanning with the secrets that must never appear in it.
 */
export async function allWorkflowHistories(
  client: Client,
  query?: string,
): Promise<
  Array<{ workflowId: string; runId: string; events: number; json: string; history: temporal.api.history.v1.IHistory }>
> {
  const out: Array<{
    workflowId: string;
    runId: string;
    events: number;
    json: string;
    history: temporal.api.history.v1.IHistory;
  }> = [];
  for await (const wf of client.workflow.list(query ? { query } : undefined)) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      events: history.events?.length ?? 0,
      json: JSON.stringify(history),
      history,
    });
  }
  return out;
}

/** Payloads in history are base64 JSON: decode every `data` field so values are searchable as text. */
export function decodedHistoryText(json: string): string {
  const decoded: string[] = [json];
  for (const m of json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g))
    decoded.push(Buffer.from(m[1], 'base64').toString('utf8'));
  return decoded.join('\n');
}
