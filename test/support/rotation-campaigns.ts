import type { Client } from '@temporalio/client';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';

/** Where and how the rotation tests run their campaigns. */
export type RotationRun = {
  client: Client;
  taskQueue: string;
  fleetFile: string;
  secret: string;
  maxInFlight: number;
  maxFailures: number;
};

/** Runs a `rotate-secret` campaign of `run.secret` (no health bake) to its end; `input` overrides any field. */
export function runRotationCampaign(
  run: RotationRun,
  campaignId: string,
  input: Partial<FleetCampaignInput> = {},
): Promise<CampaignReport> {
  return run.client.workflow.execute(fleetCampaign, {
    taskQueue: run.taskQueue,
    workflowId: campaignId,
    args: [
      {
        operation: 'rotate-secret',
        fleetFile: run.fleetFile,
        maxInFlight: run.maxInFlight,
        failureBudget: { maxFailures: run.maxFailures },
        rotation: { secret: run.secret, healthBakeSeconds: 0 },
        ...input,
      },
    ],
  });
}

/** The result of the campaign's child for the account (first attempt). */
export function accountResult(client: Client, campaignId: string, accountId: string): Promise<AccountOperationResult> {
  return client.workflow.getHandle(`${campaignId}/${accountId}`).result();
}
