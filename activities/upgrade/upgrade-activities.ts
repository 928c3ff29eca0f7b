import { Context } from '@temporalio/activity';
import type { AccountAwsDeps, AccountRegion, PollHooks } from '../aws/account-region';
import {
  createChangeSet,
  deleteChangeSet,
  executeChangeSet,
  readPipelineStack,
  rollbackStack,
  waitForChangeSet,
  waitForStackStatus,
  type ChangeSetState,
  type PipelineStackState,
} from '../aws/cloudformation';
import { describeAlarmStates, type AlarmState } from '../aws/cloudwatch';
import { asFailure } from '../aws/errors';
import { fleetAccount, type FleetFileDeps } from '../fleet-file-access';

/**
 * Where an upgrade step acts: the account (looked up in the fleet file by the activity, so no
 * credential or role detail ever passes through the workflow) and one of its regions. `runId` names
 * the role session (the campaign id).
 */
export type UpgradeTarget = { fleetFile: string; accountId: string; region: string; runId: string };

export type UpgradeAccountInfo = { accountId: string; regions: string[]; stackName: string };

/** How often the waiting activities poll AWS (each poll heartbeats). */
const POLL_MS = 2000;

/** Activities of the per-account upgrade (accountUpgrade). Failures leave as ApplicationFailures with a stable type. */
export function createUpgradeActivities(deps: AccountAwsDeps & FleetFileDeps) {
  /** The account (from the fleet file), region and run an upgrade step acts on. */
  const at = (t: UpgradeTarget): AccountRegion => ({
    account: fleetAccount(deps, t.fleetFile, t.accountId),
    region: t.region,
    runId: t.runId,
  });
  return {
    /** The account's regions and pipeline stack name, from the fleet file. */
    async upgradeAccountInfo(input: { fleetFile: string; accountId: string }): Promise<UpgradeAccountInfo> {
      return asFailure(async () => {
        const account = fleetAccount(deps, input.fleetFile, input.accountId);
        return { accountId: account.id, regions: account.regions, stackName: account.pipeline.stackName };
      });
    },

    /** The pipeline stack's status, version and status reason (found: false when missing). */
    async readPipelineStack(input: UpgradeTarget): Promise<PipelineStackState> {
      return asFailure(async () => readPipelineStack(deps, { ...at(input), hooks: activityHooks() }));
    },

    /** Creates (or reuses) the change set moving the stack to `targetVersion` with its current template. */
    async createChangeSet(
      input: UpgradeTarget & {
        changeSetName: string;
        clientToken: string;
        targetVersion: string;
        description?: string;
      },
    ): Promise<{ changeSetName: string; reused: boolean }> {
      return asFailure(async () =>
        createChangeSet(deps, {
          ...at(input),
          changeSetName: input.changeSetName,
          clientToken: input.clientToken,
          version: input.targetVersion,
          description: input.description,
        }),
      );
    },

    /** Waits (heartbeating) until the change set is created or failed, then describes it with its changes. */
    async waitForChangeSet(input: UpgradeTarget & { changeSetName: string }): Promise<ChangeSetState> {
      return asFailure(async () =>
        waitForChangeSet(deps, {
          ...at(input),
          changeSetName: input.changeSetName,
          pollMs: POLL_MS,
          hooks: activityHooks(),
        }),
      );
    },

    /**
     * The same wait under its first name: workflows that started before the rename (and replays of
     * their histories) still schedule it. Remove once no such workflow runs.
     * @deprecated use waitForChangeSet
     */
    async describeChangeSet(input: UpgradeTarget & { changeSetName: string }): Promise<ChangeSetState> {
      return this.waitForChangeSet(input);
    },

    /** Executes the change set; "already executed" (a retry) is success. */
    async executeChangeSet(
      input: UpgradeTarget & { changeSetName: string; clientRequestToken: string },
    ): Promise<{ alreadyExecuted: boolean }> {
      return asFailure(async () =>
        executeChangeSet(deps, {
          ...at(input),
          changeSetName: input.changeSetName,
          clientRequestToken: input.clientRequestToken,
        }),
      );
    },

    /** Deletes the change set if it exists. */
    async deleteChangeSet(input: UpgradeTarget & { changeSetName: string }): Promise<{ deleted: boolean }> {
      return asFailure(async () => deleteChangeSet(deps, { ...at(input), changeSetName: input.changeSetName }));
    },

    /**
     * Polls the stack every 2 s until it leaves *_IN_PROGRESS, heartbeating each poll: run it with a
     * heartbeatTimeout so a dead worker's wait is retried elsewhere (polling again is harmless).
     */
    async waitForStackStatus(input: UpgradeTarget): Promise<PipelineStackState> {
      return asFailure(async () => waitForStackStatus(deps, { ...at(input), pollMs: POLL_MS, hooks: activityHooks() }));
    },

    /** Starts moving the stack back to `toVersion` (UpdateStack); `started: false` if it is there already. */
    async rollbackStack(
      input: UpgradeTarget & { toVersion: string; clientRequestToken: string },
    ): Promise<{ started: boolean }> {
      return asFailure(async () =>
        rollbackStack(deps, {
          ...at(input),
          version: input.toVersion,
          clientRequestToken: input.clientRequestToken,
        }),
      );
    },

    /** States of the named CloudWatch alarms (e.g. `<stack>-health`); unknown names come back in `missing`. */
    async readAlarmStates(
      input: UpgradeTarget & { alarmNames: string[] },
    ): Promise<{ alarms: AlarmState[]; missing: string[] }> {
      return asFailure(async () => describeAlarmStates(deps, { ...at(input), alarmNames: input.alarmNames }));
    },
  };
}

export type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;

/** Heartbeat and cancellable sleep of the running activity (no-ops outside one, e.g. in unit tests). */
function activityHooks(): PollHooks {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return {};
  }
  const c = ctx;
  return { heartbeat: (details?: unknown) => c.heartbeat(details), sleep: (ms: number) => c.sleep(ms) };
}
