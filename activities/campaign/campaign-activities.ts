import fs from 'node:fs';
import { ErrorType } from '../../fleet/error-types';
import { newestRelease, releaseFileOf, type Release } from '../../fleet/release-channel';
import { parseReleaseFile } from '../../fleet/release-file';
import { UnreadableFleetFile } from '../../fleet/load-fleet';
import type { MaintenanceWindow } from '../../fleet/fleet-schema';
import { planWaves, type WavePlanOptions } from '../../fleet/plan-waves';
import { selectAccounts, type AccountSelector } from '../../fleet/select-accounts';
import { asFailure, FleetOpsError } from '../aws/errors';
import { loadFleetForActivity, resolveAllowedFleetFile, type FleetFileDeps } from '../fleet-file-access';

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

    /**
     * The newest release on `channel` (`releases.yaml` beside the fleet file, read under the fleet
     * locations guard): what a campaign given `latest` runs with, looked up when the campaign starts.
     * No release file or none on the channel fails the campaign at once (non-retryable), naming the fix.
     */
    async latestRelease(input: { fleetFile: string; channel: string }): Promise<Release> {
      return asFailure(async () => {
        resolveAllowedFleetFile(input.fleetFile, deps.fleetDirs);
        const file = releaseFileOf(input.fleetFile);
        const publish = `publish one with \`fleetops release publish VERSION --channel ${input.channel} --fleet ${input.fleetFile}\``;
        let text: string;
        try {
          text = fs.readFileSync(resolveAllowedFleetFile(file, deps.fleetDirs), 'utf8');
        } catch (err) {
          if (err instanceof UnreadableFleetFile && err.code === 'ENOENT')
            throw new FleetOpsError(ErrorType.InvalidWorkflowInput, `"latest": no release file ${file}; ${publish}`);
          throw err;
        }
        let release: Release | undefined;
        try {
          release = newestRelease(parseReleaseFile(text, file), input.channel);
        } catch (err) {
          throw new FleetOpsError(ErrorType.InvalidWorkflowInput, (err as Error).message);
        }
        if (!release)
          throw new FleetOpsError(
            ErrorType.InvalidWorkflowInput,
            `"latest": no release on channel ${input.channel} in ${file}; ${publish}`,
          );
        return release;
      });
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
