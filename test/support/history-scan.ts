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
  for (const m of json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g))
    decoded.push(Buffer.from(m[1], 'base64').toString('utf8'));
  return decoded.join('\n');
}

/** Shapes a credential or ExternalId takes in text; none may appear in a history. */
const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['temporary access key id', /\bASIA[A-Z0-9]{16}\b/],
  ['access key id', /\bAKIA[A-Z0-9]{16}\b/],
  ['aws_secret', /aws_secret/i],
  ['secretAccessKey', /secretAccessKey/i],
  ['sessionToken', /sessionToken/i],
  ['externalId value', /"externalId"\s*:\s*"/i],
  ['recorded fixture ExternalId', /fixture-external-id-/],
];

/**
 * What a (decoded) history text gives away: each known secret value found (by position in `known`)
 * and each secret-looking pattern. Empty when clean. `allowedKeyIds`: IAM user access key *ids* that
 * the text may name on purpose (an iam-access-key rotation reports the keys it made and retired by id;
 * their secrets go in `known`); every other `AKIA…` id is still reported.
 */
export function secretsIn(text: string, known: string[] = [], allowedKeyIds: string[] = []): string[] {
  const scanned = allowedKeyIds.reduce((t, id) => (id ? t.split(id).join('<key id>') : t), text);
  const found = SECRET_PATTERNS.filter(([, re]) => re.test(scanned)).map(([what]) => what);
  known.forEach((s, i) => {
    if (s && text.includes(s)) found.push(`known secret #${i}`);
  });
  return found;
}
