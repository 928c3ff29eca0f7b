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
  waves: Array<{
    name: string;
    ring: string;
    accountIds: string[];
    /** `windowTable` asked: index into windowTable per account, aligned with accountIds (-1: none) */
    windows?: number[];
  }>;
  /** Maintenance windows of the selected accounts that have one (empty when `windowTable` was asked). */
  windows: Record<string, MaintenanceWindow>;
  /**
   * `windowTable` asked: every distinct window once, referenced per account from the waves — a window
   * per account is about 100 bytes, 4 MB at 40,000 accounts, past Temporal's payload limit.
   */
  windowTable?: MaintenanceWindow[];
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
      /** answer with windowTable and per-wave window indexes instead of a window per account id */
      windowTable?: boolean;
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
        const waves = planWaves(selection.selected, { maxWaveSize: input.maxWaveSize }).map((w) => ({
          name: w.name,
          ring: w.ring,
          accountIds: w.accountIds,
        }));
        if (input.windowTable) return { ...windowsAsTable(waves, windows), notSelected: selection.skipped };
        return { waves, windows, notSelected: selection.skipped };
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

/** The plan's windows written once each, referenced per account from its wave (see CampaignPlan.windowTable). */
export function windowsAsTable(
  waves: Array<{ name: string; ring: string; accountIds: string[] }>,
  windows: Record<string, MaintenanceWindow>,
): Pick<CampaignPlan, 'waves' | 'windows' | 'windowTable'> {
  const windowTable: MaintenanceWindow[] = [];
  const index = new Map<string, number>();
  const indexOf = (w: MaintenanceWindow | undefined): number => {
    if (!w) return -1;
    const key = JSON.stringify(w);
    if (!index.has(key)) index.set(key, windowTable.push(w) - 1);
    return index.get(key)!;
  };
  const withWindows = waves.map((w) => {
    const ws = w.accountIds.map((id) => indexOf(windows[id]));
    return ws.some((i) => i >= 0) ? { ...w, windows: ws } : w;
  });
  return { waves: withWindows, windows: {}, windowTable };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
