/** `fleetops campaign list [--all]`: campaigns from Temporal's visibility store. */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { connectTemporalClient } from '../temporal-client';
import { FLEET_OPERATION, FLEET_STATE, FLEET_WAVE } from '../../workflows/search-attributes';
import { CAMPAIGN_WORKFLOW_TYPE } from './campaign-client';

export type CampaignListEntry = {
  campaignId: string;
  /** Temporal's execution status: Running, Completed, Failed, … */
  status: string;
  /** The engine's phase (FleetState search attribute). */
  state?: string;
  wave?: string;
  operation?: string;
  /** When the campaign started (its first run, across continue-as-new). */
  startedAt: string;
  closedAt?: string;
};

export function campaignListQuery(all: boolean): string {
  // Earlier runs of a campaign that continued as new are not campaigns of their own.
  return `WorkflowType = '${CAMPAIGN_WORKFLOW_TYPE}'${all ? " AND ExecutionStatus != 'ContinuedAsNew'" : " AND ExecutionStatus = 'Running'"}`;
}

export async function runCampaignList(o: { all?: boolean; json?: boolean }): Promise<CampaignListEntry[]> {
  const { client, close } = await connectTemporalClient();
  try {
    const entries: CampaignListEntry[] = [];
    const seen = new Set<string>();
    for await (const info of client.workflow.list({ query: campaignListQuery(Boolean(o.all)) })) {
      if (seen.has(info.workflowId)) continue;
      seen.add(info.workflowId);
      entries.push(await toEntry(client, info));
    }
    if (o.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else process.stdout.write(formatCampaignList(entries, Boolean(o.all)));
    return entries;
  } finally {
    await close();
  }
}

async function toEntry(client: Client, info: WorkflowExecutionInfo): Promise<CampaignListEntry> {
  let started = info.startTime;
  const firstRunId = info.raw.firstRunId;
  if (firstRunId && firstRunId !== info.runId) {
    // Continued as new: this run started later than the campaign did.
    started =
      (
        await client.workflow
          .getHandle(info.workflowId, firstRunId)
          .describe()
          .catch(() => undefined)
      )?.startTime ?? started;
  }
  const sa = info.typedSearchAttributes;
  return {
    campaignId: info.workflowId,
    status: titleCase(info.status.name),
    ...(sa.get(FLEET_STATE) ? { state: sa.get(FLEET_STATE) } : {}),
    ...(sa.get(FLEET_WAVE) ? { wave: sa.get(FLEET_WAVE) } : {}),
    ...(sa.get(FLEET_OPERATION) ? { operation: sa.get(FLEET_OPERATION) } : {}),
    startedAt: started.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
  };
}

const titleCase = (s: string) =>
  s
    .toLowerCase()
    .replace(/_/g, ' ')
    .replace(/^./, (c) => c.toUpperCase());

/** One line per campaign: id, Temporal status, FleetState (wave), start time (UTC). */
export function formatCampaignList(entries: readonly CampaignListEntry[], all: boolean): string {
  if (!entries.length) return all ? 'no campaigns\n' : 'no running campaigns (--all lists finished ones too)\n';
  const rows = [
    ['CAMPAIGN', 'STATUS', 'STATE', 'WAVE', 'STARTED (UTC)'],
    ...entries.map((e) => [
      e.campaignId,
      e.status,
      e.state ?? '—',
      e.wave ?? '—',
      e.startedAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ''),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return `${rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
