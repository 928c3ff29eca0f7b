/** `fleetops campaign start`: validate locally, start the fleetCampaign workflow, optionally watch it. */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { loadFleetFile } from '../../fleet/load-fleet';
import { planWaves } from '../../fleet/plan-waves';
import { selectAccounts } from '../../fleet/select-accounts';
import { connectTemporalClient, TASK_QUEUE, workflowUiUrl } from '../temporal-client';
import { CAMPAIGN_WORKFLOW_TYPE, closedAs, workflowPollers } from './campaign-client';
import { campaignInputFromFlags, type CampaignStartFlags } from './campaign-flags';
import { showCampaignStatus } from './campaign-status';
import { fleetCampaign } from '../../workflows/campaign/fleet-campaign';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { campaignStartMetadata } from '../../workflows/campaign/campaign-metadata';
import { operations } from '../../workflows/operations';

export type CampaignStartOptions = CampaignStartFlags & { watch?: boolean; json?: boolean };

/**
 * Everything that can be checked before a campaign starts: the flags, the fleet file, the selection
 * (unknown ids, nothing active) and the waves. `schedule create` checks a scheduled campaign the same way.
 */
export function checkCampaignStart(o: CampaignStartFlags, now = new Date()) {
  const { campaignId, input } = campaignInputFromFlags(o, now);
  const accounts = loadFleetFile(input.fleetFile);
  const preview = selectAccounts(accounts, input.select ?? {});
  if (preview.unknownIds.length) throw new Error(`--accounts: not in ${o.fleet}: ${preview.unknownIds.join(', ')}`);
  if (preview.selected.length === 0) throw new Error(`the selection matches no active account in ${o.fleet}`);
  const waves = planWaves(preview.selected, { maxWaveSize: input.maxWaveSize });
  return { campaignId, input, preview, waves };
}

/** Returns the exit code: 0 once started (with --watch: as `campaign status --watch`). */
export async function runCampaignStart(o: CampaignStartOptions): Promise<number> {
  const { campaignId, input, preview, waves } = checkCampaignStart(o);

  const say = (line: string) => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  const { client, namespace, close } = await connectTemporalClient();
  try {
    const handle = await startCampaign(client, namespace, campaignId, input);
    const ui = process.env.FLEETOPS_TEMPORAL_UI_URL
      ? workflowUiUrl(process.env.FLEETOPS_TEMPORAL_UI_URL, namespace, campaignId)
      : undefined;
    const waveList =
      waves
        .slice(0, 8)
        .map((w) => `${w.name} ${w.accountIds.length}`)
        .join(', ') + (waves.length > 8 ? `, … (${waves.length - 8} more)` : '');
    const op = operations.get(input.operation);
    const target = op.target((input as Record<string, unknown>)[op.paramsField]);
    const what = target ? `${op.name} to ${target}` : op.name;
    say(
      `started ${input.plan ? 'plan (preview only, nothing changes) ' : ''}campaign ${campaignId}: ${what} over ${preview.selected.length} accounts in ${waves.length} wave${waves.length === 1 ? '' : 's'} (${waveList})`,
    );
    if (preview.skipped.length)
      say(
        `  not selected: ${preview.skipped.length} (${preview.skipped
          .slice(0, 5)
          .map((s) => `${s.id} ${s.reason}`)
          .join(', ')}${preview.skipped.length > 5 ? ', …' : ''})`,
      );
    if (ui) say(`  Temporal UI: ${ui}`);
    if (!o.watch) say(`  follow it:   npx fleetops campaign status ${campaignId} --watch`);
    if ((await workflowPollers(client, namespace)) === 0) {
      process.stderr.write(
        `  ⚠ no worker is polling task queue ${TASK_QUEUE()}: the campaign waits until one runs (npx fleetops worker; docs/runbooks/worker-down.md)\n`,
      );
    }
    if (o.json && !o.watch) {
      process.stdout.write(
        `${JSON.stringify(
          {
            campaignId,
            runId: handle.firstExecutionRunId,
            namespace,
            taskQueue: TASK_QUEUE(),
            uiUrl: ui ?? null,
            accounts: preview.selected.length,
            notSelected: preview.skipped,
            waves: waves.map((w) => ({ name: w.name, ring: w.ring, size: w.accountIds.length })),
            input,
          },
          null,
          2,
        )}\n`,
      );
    }
    if (!o.watch) return 0;
    return await showCampaignStatus(client, namespace, campaignId, { watch: true, json: o.json });
  } finally {
    await close();
  }
}

/** The Temporal UI's static summary and details of a campaign started with this input (CLI and schedules). */
export function campaignMetadata(input: FleetCampaignInput) {
  const op = operations.get(input.operation);
  const params = (input as Record<string, unknown>)[op.paramsField];
  return campaignStartMetadata(input, op.target(params));
}

async function startCampaign(client: Client, namespace: string, campaignId: string, input: FleetCampaignInput) {
  try {
    return await client.workflow.start(fleetCampaign, {
      taskQueue: TASK_QUEUE(),
      workflowId: campaignId,
      args: [input],
      // What the Temporal UI shows as the campaign's summary and details (it keeps its live details itself).
      ...campaignMetadata(input),
      // An id names one campaign: a running one is never joined, a completed one never re-run under the
      // same id; after a failed/cancelled/terminated workflow the id may be used again.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const d = await client.workflow
      .getHandle(campaignId)
      .describe()
      .catch(() => undefined);
    const started = d ? ` (started ${d.startTime.toISOString()})` : '';
    if (d && d.type !== CAMPAIGN_WORKFLOW_TYPE)
      throw new Error(
        `a ${d.type} workflow "${campaignId}" already exists in namespace ${namespace}: choose another --campaign-id`,
      );
    if (!d || d.status.name === 'RUNNING') {
      throw new Error(
        `campaign "${campaignId}" is already running in namespace ${namespace}${started}: ` +
          `watch it with \`npx fleetops campaign status ${campaignId} --watch\`, or start a new one with another --campaign-id`,
      );
    }
    throw new Error(
      `campaign "${campaignId}" already ran in namespace ${namespace}${started} and ${closedAs(d)}: choose another --campaign-id`,
    );
  }
}
