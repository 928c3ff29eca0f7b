import { Context } from '@temporalio/activity';
import { ErrorType } from '../../fleet/error-types';
import { resolveAutoScalingGroups, type AutoScalingGroupTarget } from '../../fleet/fleet-images';
import { accountImageRegions } from '../../fleet/image-release';
import type { AccountAwsDeps, AccountRegion } from '../aws/account-region';
import {
  ACTIVE_REFRESH_STATUSES,
  describeRefreshes,
  describeTargetGroups,
  rollbackRefresh,
  startRefresh,
  type GroupState,
  type RefreshPreferences,
  type RefreshState,
} from '../aws/autoscaling';
import { describeAlarmStates, type AlarmState } from '../aws/cloudwatch';
import { describeImage, type VisibleImage } from '../aws/ec2-images';
import {
  ensureImageVersion,
  readLaunchTemplateVersion,
  setDefaultVersion,
  type LaunchTemplateVersionState,
} from '../aws/ec2-launch-templates';
import { asFailure, FleetOpsError } from '../aws/errors';
import { readReleaseImages } from './release-images';
import { fleetAccount, type FleetFileDeps } from '../fleet-file-access';
import { ImageSharing, type ImageShareResult } from './image-sharing';

/** Where an AMI rollout step acts: the account (looked up in the fleet file by the activity) and one region. */
export type AmiTarget = { fleetFile: string; accountId: string; region: string; runId: string };

/** One region of an account's rollout: the AMI it gets and the groups the fleet file names there. */
export type AmiRegionPlan = { region: string; imageId: string; targets: AutoScalingGroupTarget[] };
export type AmiAccountInfo = { release: string; imageAccountId: string; regions: AmiRegionPlan[] };

/** A group's refresh as the workflow sees it: ours (to the version we made), someone else's, or none active. */
export type RefreshStart =
  | { kind: 'started' | 'adopted'; instanceRefreshId: string }
  | { kind: 'busy'; instanceRefreshId: string; status: string };

/** How often the refresh wait polls (each poll heartbeats). */
const POLL_MS = 2000;
const TERMINAL_REFRESH = ['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'];

/** Activities of the per-account AMI rollout (accountAmiRollout). Failures leave as ApplicationFailures with a stable type. */
export function createAmiActivities(deps: AccountAwsDeps & FleetFileDeps) {
  const at = (t: AmiTarget): AccountRegion => ({
    account: fleetAccount(deps, t.fleetFile, t.accountId),
    region: t.region,
    runId: t.runId,
  });
  const sharing = new ImageSharing(deps);

  /**
   * Ours: the group's newest refresh, when it goes to `version` of the template and is active or
   * Successful (a refresh we started before a crash or retry). Foreign: any other active refresh.
   */
  const classify = (refreshes: RefreshState[], launchTemplateId: string, version: number) => {
    const newest = refreshes[0];
    const ours =
      newest &&
      newest.desired?.version === String(version) &&
      (newest.desired.launchTemplateId === undefined || newest.desired.launchTemplateId === launchTemplateId) &&
      (ACTIVE_REFRESH_STATUSES.includes(newest.status) || newest.status === 'Successful')
        ? newest
        : undefined;
    const foreign = refreshes.find((r) => r !== ours && ACTIVE_REFRESH_STATUSES.includes(r.status));
    return { ours, foreign };
  };

  return {
    /**
     * The release (from `releases.yaml` beside the fleet file) resolved for the account: the AMI per
     * region of its groups, and the groups per region. No groups → no regions.
     */
    async amiAccountInfo(input: { fleetFile: string; accountId: string; image: string }): Promise<AmiAccountInfo> {
      return asFailure(async () => {
        const account = fleetAccount(deps, input.fleetFile, input.accountId);
        const targets = resolveAutoScalingGroups(account);
        const regions = accountImageRegions(account);
        if (targets.length === 0)
          return { release: input.image, imageAccountId: account.imageAccount?.id ?? '', regions: [] };
        if (!account.imageAccount)
          throw new FleetOpsError(
            ErrorType.InvalidFleetFile,
            'the fleet file has no defaults.imageAccount to share images from',
          );
        const resolved = readReleaseImages(input.fleetFile, deps.fleetDirs, input.image, regions);
        return {
          release: resolved.release,
          imageAccountId: resolved.imageAccount,
          regions: resolved.images.map((i) => ({
            region: i.region,
            imageId: i.imageId,
            targets: targets.filter((t) => t.region === i.region),
          })),
        };
      });
    },

    /**
     * From the image account: launch permission for the account (or once for `defaults.imageSharing`'s
     * organization / OU) and, for an image on encrypted snapshots, a KMS grant on the key for the account.
     * Idempotent: each is looked up before it is made (see image-sharing.ts).
     */
    async shareImage(input: AmiTarget & { imageId: string }): Promise<ImageShareResult> {
      return asFailure(async () => sharing.share(input));
    },

    /**
     * The image as the account sees it (found: false when it is not visible); when it is visible and its
     * snapshots are encrypted, the account must be able to use the KMS key (else ImageKeyNotUsable).
     */
    async verifyImage(input: AmiTarget & { imageId: string }): Promise<VisibleImage> {
      return asFailure(async () => {
        const where = at(input);
        const seen = await describeImage(deps, { ...where, imageId: input.imageId });
        if (seen.found && seen.encrypted) await sharing.checkKey({ ...input, account: where.account });
        return seen;
      });
    },

    /**
     * Campaign preflight (before the first wave): the selected accounts fit in AWS's 1,000 account
     * shares per image and region, else ImageShareLimitExceeded and nothing is shared.
     */
    async checkImageShareLimits(input: {
      fleetFile: string;
      accountIds: string[];
      params: { image: string };
      runId: string;
    }) {
      return asFailure(async () =>
        sharing.checkLimits({
          fleetFile: input.fleetFile,
          accountIds: input.accountIds,
          image: input.params.image,
          runId: input.runId,
        }),
      );
    },

    /** The groups a fleet-file target names in the region. */
    async describeGroups(input: AmiTarget & { target: AutoScalingGroupTarget }): Promise<GroupState[]> {
      return asFailure(async () => describeTargetGroups(deps, { ...at(input), target: input.target }));
    },

    /** One launch template version (number, `$Latest`, `$Default`) with its image. */
    async readLaunchTemplateVersion(
      input: AmiTarget & { launchTemplateId: string; version: string },
    ): Promise<LaunchTemplateVersionState> {
      return asFailure(async () =>
        readLaunchTemplateVersion(deps, {
          ...at(input),
          launchTemplateId: input.launchTemplateId,
          version: input.version,
        }),
      );
    },

    /** Version M = N with the new image: looked up by its token, else created with it as ClientToken. */
    async ensureImageVersion(
      input: AmiTarget & { launchTemplateId: string; sourceVersion: number; imageId: string; clientToken: string },
    ): Promise<{ version: number; created: boolean }> {
      return asFailure(async () => ensureImageVersion(deps, { ...at(input), ...input }));
    },

    /**
     * The instance refresh of the group to `version`: ours already there (active or Successful) is
     * adopted; someone else's active one → busy (the workflow waits); else started through DesiredConfiguration.
     */
    async startGroupRefresh(
      input: AmiTarget & {
        groupName: string;
        launchTemplateId: string;
        version: number;
        preferences: Omit<RefreshPreferences, 'alarms'> & { alarm?: string };
      },
    ): Promise<RefreshStart> {
      return asFailure(async () => {
        const where = at(input);
        for (let tries = 0; ; tries++) {
          const { ours, foreign } = classify(
            await describeRefreshes(deps, { ...where, groupName: input.groupName }),
            input.launchTemplateId,
            input.version,
          );
          if (ours) return { kind: 'adopted', instanceRefreshId: ours.instanceRefreshId };
          if (foreign) return { kind: 'busy', instanceRefreshId: foreign.instanceRefreshId, status: foreign.status };
          // The alarm goes into the AlarmSpecification only if it exists (AWS refuses unknown alarms).
          const { alarm, ...rest } = input.preferences;
          const { missing } = alarm
            ? await describeAlarmStates(deps, { ...where, alarmNames: [alarm] })
            : { missing: ['none'] };
          const started = await startRefresh(deps, {
            ...where,
            groupName: input.groupName,
            launchTemplateId: input.launchTemplateId,
            version: input.version,
            preferences: { ...rest, alarms: alarm && !missing.length ? [alarm] : [] },
          });
          if ('instanceRefreshId' in started) return { kind: 'started', instanceRefreshId: started.instanceRefreshId };
          if (tries >= 2)
            throw new FleetOpsError(
              ErrorType.AwsUnavailable,
              `InstanceRefreshInProgress on ${input.groupName} but no active refresh is listed`,
            );
        }
      });
    },

    /** Polls the refresh every 2 s until it ends, heartbeating each poll; returns its last state. */
    async waitForRefresh(input: AmiTarget & { groupName: string; instanceRefreshId: string }): Promise<RefreshState> {
      return asFailure(async () => {
        const where = at(input);
        for (;;) {
          const refresh = (await describeRefreshes(deps, { ...where, groupName: input.groupName })).find(
            (r) => r.instanceRefreshId === input.instanceRefreshId,
          );
          if (!refresh)
            throw new FleetOpsError(
              ErrorType.AwsRequestRejected,
              `instance refresh ${input.instanceRefreshId} of ${input.groupName} is not listed`,
            );
          if (TERMINAL_REFRESH.includes(refresh.status)) return refresh;
          await pause(refresh);
        }
      });
    },

    /** The group's refreshes (for the wait on someone else's). */
    async listRefreshes(input: AmiTarget & { groupName: string }): Promise<RefreshState[]> {
      return asFailure(async () => describeRefreshes(deps, { ...at(input), groupName: input.groupName }));
    },

    /** RollbackInstanceRefresh of the group's active refresh (none active → rolledBack: false). */
    async rollbackGroupRefresh(
      input: AmiTarget & { groupName: string },
    ): Promise<{ rolledBack: boolean; instanceRefreshId?: string }> {
      return asFailure(async () => rollbackRefresh(deps, { ...at(input), groupName: input.groupName }));
    },

    /** Makes `version` the launch template's default. */
    async setDefaultLaunchTemplateVersion(
      input: AmiTarget & { launchTemplateId: string; version: number },
    ): Promise<{ changed: boolean }> {
      return asFailure(async () =>
        setDefaultVersion(deps, { ...at(input), launchTemplateId: input.launchTemplateId, version: input.version }),
      );
    },

    /** States of the named alarms; unknown names in `missing`. */
    async readGroupAlarms(
      input: AmiTarget & { alarmNames: string[] },
    ): Promise<{ alarms: AlarmState[]; missing: string[] }> {
      return asFailure(async () => describeAlarmStates(deps, { ...at(input), alarmNames: input.alarmNames }));
    },
  };
}

export type AmiActivities = ReturnType<typeof createAmiActivities>;

/** Heartbeat and cancellable sleep of the running activity (a plain sleep outside one, e.g. in unit tests). */
async function pause(details: unknown): Promise<void> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  if (!ctx) return new Promise((r) => setTimeout(r, POLL_MS));
  ctx.heartbeat(details);
  await ctx.sleep(POLL_MS);
}
