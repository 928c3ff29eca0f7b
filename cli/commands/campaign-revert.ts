/**
 * `fleetops campaign revert ID`: a new campaign that takes every account campaign ID changed back to
 * what it ran before (an upgrade: each upgraded region to its previous version), wave by wave under the
 * same controls as `campaign start`. Accounts ID did not change are left alone and listed. Without
 * --yes it only shows what it would do.
 */
import path from 'node:path';
import { campaignInputSchema, type FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { campaignStartMetadata } from '../../workflows/campaign/campaign-metadata';
import { fleetCampaign } from '../../workflows/campaign/fleet-campaign';
import type { AmiRevertGroup } from '../../workflows/ami/ami-params';
import { operations } from '../../workflows/operations';
import type { RotationRevert } from '../../workflows/rotation/rotation-params';
import { connectTemporalClient, TASK_QUEUE } from '../temporal-client';
import { campaignInputFromFlags, defaultCampaignId, flagAttribute, type CampaignStartFlags } from './campaign-flags';
import { CampaignRevertPlanner, type RevertPlan } from './campaign-revert-plan';
import { showCampaignStatus } from './campaign-status';

/** The controls of `campaign start` (no selection: a revert takes the accounts the campaign changed). */
export type CampaignRevertOptions = Pick<
  CampaignStartFlags,
  | 'maxInFlight'
  | 'concurrencyMode'
  | 'failureBudget'
  | 'onBudget'
  | 'maxWaveSize'
  | 'waveBake'
  | 'approveBefore'
  | 'ignoreMaintenanceWindows'
  | 'campaignId'
> & {
  fleet?: string;
  yes?: boolean;
  watch?: boolean;
  json?: boolean;
};

/** Accounts listed per line kind before "… N more". */
const LISTED = 10;

export async function runCampaignRevert(id: string, o: CampaignRevertOptions): Promise<number> {
  const say = (line: string) => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  const { client, namespace, close } = await connectTemporalClient();
  try {
    const plan = await new CampaignRevertPlanner(client, namespace).plan(id);
    const { campaignId, input } = revertInput(id, plan, o);
    describePlan(plan, say);
    if (!o.yes) {
      say(`nothing started: run again with --yes to start campaign ${campaignId}`);
      if (o.json) process.stdout.write(`${JSON.stringify({ started: false, campaignId, input }, null, 2)}\n`);
      return 0;
    }
    const target = `previous state (revert of ${id})`;
    await client.workflow.start(fleetCampaign, {
      taskQueue: TASK_QUEUE(),
      workflowId: campaignId,
      args: [input],
      ...campaignStartMetadata(input, target),
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    say(`started campaign ${campaignId}: revert of ${id} over ${plan.changed} accounts`);
    if (!o.watch) say(`  follow it:   npx fleetops campaign status ${campaignId} --watch`);
    if (o.json && !o.watch) process.stdout.write(`${JSON.stringify({ started: true, campaignId, input }, null, 2)}\n`);
    if (!o.watch) return 0;
    return await showCampaignStatus(client, namespace, campaignId, { watch: true, json: o.json });
  } finally {
    await close();
  }
}

/**
 * The revert campaign's input: the controls from the flags (checked as `campaign start` checks them),
 * the reverted campaign's operation parameters and fleet file, `revert` and allowDowngrade.
 */
export function revertInput(
  id: string,
  plan: RevertPlan,
  o: CampaignRevertOptions,
  now = new Date(),
): { campaignId: string; input: FleetCampaignInput } {
  const op = operations.get(plan.operation);
  // The operation's required flags as the reverted campaign had them (only so the flags parse).
  const required = Object.fromEntries(
    op.cliFlags.filter((f) => f.required).map((f) => [flagAttribute(f), String(plan.params[f.param])]),
  );
  const campaignId = o.campaignId ?? defaultCampaignId('revert', id, now);
  const { maxInFlight, concurrencyMode, failureBudget, onBudget, maxWaveSize, waveBake, approveBefore } = o;
  const { input } = campaignInputFromFlags({
    ...{ maxInFlight, concurrencyMode, failureBudget, onBudget, maxWaveSize, waveBake, approveBefore },
    ignoreMaintenanceWindows: o.ignoreMaintenanceWindows,
    ...required,
    operation: plan.operation,
    fleet: o.fleet ?? plan.fleetFile,
    campaignId,
  });
  const full = {
    ...input,
    fleetFile: path.resolve(o.fleet ?? plan.fleetFile),
    [op.paramsField]: plan.params,
    allowDowngrade: true,
    revert: plan.revert,
  };
  const parsed = campaignInputSchema().safeParse(full);
  if (!parsed.success)
    throw new Error(
      `revert of "${id}": ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
    );
  return { campaignId, input: parsed.data as FleetCampaignInput };
}

function describePlan(plan: RevertPlan, say: (line: string) => void): void {
  const { revert } = plan;
  say(`revert of campaign ${revert.of} (${plan.operation}): ${plan.changed} account(s) go back`);
  // Targets that read alike (an AMI revert's differ only by launch template id) are listed together.
  const lines = new Map<string, string[]>();
  for (const t of revert.targets) {
    const line = describeParams(t.params);
    lines.set(line, [...(lines.get(line) ?? []), ...t.accountIds]);
  }
  for (const [line, accountIds] of lines) {
    const ids =
      accountIds.slice(0, LISTED).join(', ') +
      (accountIds.length > LISTED ? `, … ${accountIds.length - LISTED} more` : '');
    say(`  ${line}: ${accountIds.length} (${ids})`);
  }
  say(`left alone (${revert.leftAlone.length}): not changed by ${revert.of}`);
  for (const l of revert.leftAlone.slice(0, LISTED))
    say(`  ${l.accountId} ${l.state}${l.reason ? `: ${l.reason}` : ''}`);
  if (revert.leftAlone.length > LISTED) say(`  … ${revert.leftAlone.length - LISTED} more (--json lists all)`);
}

/**
 * `us-east-1 → 1.0.0, eu-west-1 → 1.0.1` for an upgrade; `eu-west-1 data-pipeline-workers version 2 → 1`
 * per group for an AMI revert; `eu-west-1 <secret id> AWSCURRENT <version> → <version>` for a rotation
 * revert; other parameters as key=value.
 */
function describeParams(params: Record<string, unknown>): string {
  const regions = params.regionVersions as Record<string, string> | undefined;
  if (regions)
    return Object.entries(regions)
      .map(([r, v]) => `${r} → ${v}`)
      .join(', ');
  const groups = params.revertGroups as AmiRevertGroup[] | undefined;
  if (groups) return groups.map((g) => `${g.region} ${g.group} version ${g.fromVersion} → ${g.toVersion}`).join(', ');
  const secret = params.revert as RotationRevert | undefined;
  if (secret) return `${secret.region} ${secret.secretId} AWSCURRENT ${secret.fromVersionId} → ${secret.toVersionId}`;
  return Object.entries(params)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}
