/** Finding a campaign on Temporal and reading its status: the part every `campaign` command shares. */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { FLEET_STATE } from '../../workflows/search-attributes';
import { statusQuery } from '../../workflows/campaign/campaign-messages';
import { TASK_QUEUE } from '../temporal-client';
import type { CampaignResult } from './campaign-status-view';

/**
 * The campaign workflow's type: the name of the workflow function `fleetCampaign` (a unit test holds
 * them equal). Not imported from the workflow: that would load every operation at each CLI start.
 */
export const CAMPAIGN_WORKFLOW_TYPE = 'fleetCampaign';

/** How long a query waits for a worker to answer. */
const QUERY_TIMEOUT_MS = 15_000;

export type CampaignWorkflow = (input: unknown) => Promise<CampaignResult>;
export type CampaignHandle = WorkflowHandle<CampaignWorkflow>;

export type FoundCampaign = { handle: CampaignHandle; description: WorkflowExecutionDescription; running: boolean };

/** Describes campaign `id`; errors name what is wrong (no such campaign, not a campaign). */
export async function findCampaign(client: Client, namespace: string, id: string): Promise<FoundCampaign> {
  const handle = client.workflow.getHandle<CampaignWorkflow>(id);
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    throw campaignError(err, id, namespace);
  }
  if (description.type !== CAMPAIGN_WORKFLOW_TYPE)
    throw new Error(`"${id}" in namespace ${namespace} is a ${description.type} workflow, not a campaign`);
  return { handle, description, running: description.status.name === 'RUNNING' };
}

/** Turns "not found" into `no campaign "X" in namespace N`; other errors pass through. */
export function campaignError(err: unknown, id: string, namespace: string): unknown {
  if (err instanceof WorkflowNotFoundError) return new Error(`no campaign "${id}" in namespace ${namespace}`);
  return err;
}

/** How a closed campaign ended, in words: the engine's final phase if it recorded one, else Temporal's status. */
export function closedAs(description: WorkflowExecutionDescription): string {
  const phase = description.typedSearchAttributes.get(FLEET_STATE);
  if (description.status.name === 'COMPLETED' && phase && ['completed', 'cancelled', 'failed'].includes(phase))
    return phase;
  return description.status.name.toLowerCase().replace(/_/g, ' ');
}

export type CampaignView =
  | { closed: false; status: CampaignResult }
  | { closed: true; closedAs: string; status?: CampaignResult; failure?: string };

/**
 * The campaign's status: the `status` query while it runs; once closed, its result (a failed or
 * terminated campaign has none: the last status is then queried, which needs a worker, and may be missing).
 */
export async function readCampaign(client: Client, found: FoundCampaign): Promise<CampaignView> {
  const { handle, description } = found;
  if (found.running) return { closed: false, status: await queryStatus(client, handle) };
  const as = closedAs(description);
  try {
    return { closed: true, closedAs: as, status: await handle.result() };
  } catch (err) {
    const failure = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    const status = await queryStatus(client, handle, 5000).catch(() => undefined);
    return { closed: true, closedAs: as, status, failure };
  }
}

/** The `status` query, with a deadline and an error that points at the likely cause (no worker). */
export async function queryStatus(
  client: Client,
  handle: CampaignHandle,
  timeoutMs = QUERY_TIMEOUT_MS,
): Promise<CampaignResult> {
  const started = Date.now();
  try {
    return await client.withDeadline(started + timeoutMs, () => handle.query(statusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw err;
    const timedOut = Date.now() - started >= timeoutMs - 100;
    throw new Error(
      `campaign ${handle.workflowId} did not answer the status query${timedOut ? ` within ${Math.round(timeoutMs / 1000)} s` : `: ${describeError(err)}`}\n` +
        `  is a worker running on task queue ${TASK_QUEUE()}? see docs/runbooks/worker-down.md`,
    );
  }
}

/** Workers polling the task queue for workflow tasks recently (undefined when the server cannot tell). */
export async function workflowPollers(client: Client, namespace: string): Promise<number | undefined> {
  try {
    const res = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: TASK_QUEUE() } });
    return res.pollers?.length ?? 0;
  } catch {
    return undefined;
  }
}

/** An error's message with its gRPC cause's details ("Failed to query Workflow: deadline exceeded"). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { details?: unknown; message?: unknown } | undefined;
  const detail =
    typeof cause?.details === 'string' && cause.details
      ? cause.details
      : typeof cause?.message === 'string'
        ? cause.message
        : '';
  return detail && !err.message.includes(detail) ? `${err.message}: ${detail}` : err.message;
}
