import { ErrorType } from '../../fleet/error-types';
import type { MaintenanceWindow } from '../../fleet/fleet-schema';
import { planWaves, type WavePlanOptions } from '../../fleet/plan-waves';
import { selectAccounts, type AccountSelector } from '../../fleet/select-accounts';
import { asFailure, FleetOpsError } from '../aws/errors';
import { loadFleetForActivity, type FleetFileDeps } from '../fleet-file-access';

export type CampaignPlan = {
  waves: Array<{ name: string; ring: string; accountIds: string[] }>;
  /** Maintenance windows of the selected accounts that have one. */
  windows: Record<string, MaintenanceWindow>;
  /** Matched the selection but not active in the fleet file (paused/quarantined), with the reason. */
  notSelected: Array<{ id: string; reason: string }>;
};

/** Activities of the campaign engine itself (no AWS calls). */
export function createCampaignActivities(deps: FleetFileDeps) {
  return {
    /**
     * Resolves the campaign's selection against the fleet file and orders it into waves by ring.
     * Unknown account ids or an empty selection fail the campaign at once (non-retryable).
     */
    async planCampaign(input: {
      fleetFile: string;
      select?: AccountSelector;
      maxWaveSize?: WavePlanOptions['maxWaveSize'];
    }): Promise<CampaignPlan> {
      return asFailure(async () => {
        const { accounts } = loadFleetForActivity(deps, input.fleetFile);
        const selection = selectAccounts(accounts, input.select ?? {});
        if (selection.unknownIds.length) {
          throw new FleetOpsError(
            ErrorType.InvalidWorkflowInput,
            `select.ids: not in fleet file ${input.fleetFile}: ${selection.unknownIds.join(', ')}`,
          );
        }
        if (selection.selected.length === 0) {
          throw new FleetOpsError(
            ErrorType.InvalidWorkflowInput,
            `the selection matches no active account in ${input.fleetFile}`,
          );
        }
        const windows: Record<string, MaintenanceWindow> = {};
        for (const a of selection.selected) if (a.maintenanceWindow) windows[a.id] = a.maintenanceWindow;
        const waves = planWaves(selection.selected, { maxWaveSize: input.maxWaveSize });
        return {
          waves: waves.map((w) => ({ name: w.name, ring: w.ring, accountIds: w.accountIds })),
          windows,
          notSelected: selection.skipped,
        };
      });
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
