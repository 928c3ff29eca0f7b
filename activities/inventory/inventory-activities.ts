import { Context } from '@temporalio/activity';
import { selectAccounts, type AccountSelector } from '../../fleet/select-accounts';
import { readPipelineStack, type PipelineStackState } from '../aws/cloudformation';
import { asFailure } from '../aws/errors';
import { fleetAccount, loadFleetForActivity } from '../fleet-file-access';
import { AccountDriftReader, type AccountDriftResult, type DriftReaderDeps } from './account-drift-reader';

export type { AccountDriftResult } from './account-drift-reader';

export type InventorySelection = {
  accountIds: string[];
  skipped: Array<{ id: string; reason: string }>;
  unknownIds: string[];
};

export type AccountInventory = { accountId: string; stacks: PipelineStackState[] };

/** Activities of the read-only fleet inventory. Failures leave as ApplicationFailures with a stable type. */
export function createInventoryActivities(deps: DriftReaderDeps) {
  const drift = new AccountDriftReader(deps, heartbeat);
  return {
    /** Resolves the selection against the fleet file; returns ids only, to keep workflow history small. */
    async selectInventoryAccounts(input: { fleetFile: string; select?: AccountSelector }): Promise<InventorySelection> {
      return asFailure(async () => {
        const { accounts } = loadFleetForActivity(deps, input.fleetFile);
        const result = selectAccounts(accounts, input.select ?? {});
        return { accountIds: result.selected.map((a) => a.id), skipped: result.skipped, unknownIds: result.unknownIds };
      });
    },

    /** Assumes the account's role and reads its pipeline stack in every region it runs in. */
    async inspectAccount(input: { fleetFile: string; accountId: string; runId: string }): Promise<AccountInventory> {
      return asFailure(async () => {
        const account = fleetAccount(deps, input.fleetFile, input.accountId);
        const stacks: PipelineStackState[] = [];
        for (const region of account.regions) {
          heartbeat();
          stacks.push(await readPipelineStack(deps, { account, region, runId: input.runId, hooks: { heartbeat } }));
        }
        return { accountId: account.id, stacks };
      });
    },

    /**
     * A drift inventory's read of one account: its stacks (as inspectAccount) and, compared with the fleet
     * file and the release file beside it, its drift (version, missing-stack, image, secret-age).
     */
    async inspectAccountDrift(input: {
      fleetFile: string;
      accountId: string;
      runId: string;
      maxSecretAgeDays: number;
    }): Promise<AccountDriftResult> {
      return asFailure(async () => {
        const account = fleetAccount(deps, input.fleetFile, input.accountId);
        return drift.read(input.fleetFile, account, input.runId, input.maxSecretAgeDays);
      });
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // not running inside an activity (unit tests)
  }
}
