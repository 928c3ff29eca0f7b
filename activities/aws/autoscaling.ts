/**
 * Auto Scaling calls for AMI rollouts, inside the rate budgets (family `autoscaling`): the groups an
 * account declares, their instance refreshes, starting one to a launch template version (through
 * `DesiredConfiguration`, never UpdateAutoScalingGroup) and rolling one back.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import type { AutoScalingGroupTarget } from '../../fleet/fleet-images';
import type { AccountAwsDeps } from './account-region';
import { callAws } from './aws-call';
import type { Ec2Where } from './ec2-images';
import { FleetOpsError } from './errors';

/** A group and the launch template (version as written on the group: a number, `$Latest` or `$Default`) it launches from. */
export type GroupState = {
  groupName: string;
  launchTemplate: { launchTemplateId: string; launchTemplateName: string; version: string } | null;
};

export type RefreshState = {
  instanceRefreshId: string;
  status: string;
  statusReason?: string;
  percentageComplete: number;
  /** Epoch ms (0 when AWS gave none). */
  startedAt: number;
  desired: { launchTemplateId?: string; launchTemplateName?: string; version?: string } | null;
};

/** Statuses during which a new refresh cannot start. */
export const ACTIVE_REFRESH_STATUSES = ['Pending', 'InProgress', 'Baking', 'Cancelling', 'RollbackInProgress'];

function client(deps: AccountAwsDeps, { account, region, runId }: Ec2Where): AutoScalingClient {
  return deps.clients.autoScaling(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

function call<T>(deps: AccountAwsDeps, where: Ec2Where, api: string, send: () => Promise<T>): Promise<T> {
  return callAws(deps.limits, { family: 'autoscaling', api, region: where.region, accountId: where.account.id }, send);
}

function groupState(g: AutoScalingGroup): GroupState {
  const lt = g.LaunchTemplate;
  return {
    groupName: g.AutoScalingGroupName ?? '',
    launchTemplate:
      lt?.LaunchTemplateId || lt?.LaunchTemplateName
        ? {
            launchTemplateId: lt.LaunchTemplateId ?? '',
            launchTemplateName: lt.LaunchTemplateName ?? '',
            version: lt.Version ?? '$Default',
          }
        : null,
  };
}

/** The groups a fleet-file target names in the region: one by name (empty if missing), or every group with the tag. */
export async function describeTargetGroups(
  deps: AccountAwsDeps,
  req: Ec2Where & { target: AutoScalingGroupTarget },
): Promise<GroupState[]> {
  const asg = client(deps, req);
  const out: GroupState[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(deps, req, 'DescribeAutoScalingGroups', () =>
      asg.send(
        new DescribeAutoScalingGroupsCommand(
          req.target.by === 'name'
            ? { AutoScalingGroupNames: [req.target.name], NextToken: nextToken }
            : {
                Filters: [{ Name: `tag:${req.target.tag.key}`, Values: [req.target.tag.value] }],
                NextToken: nextToken,
              },
        ),
      ),
    );
    out.push(...(page.AutoScalingGroups ?? []).map(groupState));
    nextToken = page.NextToken;
  } while (nextToken);
  return out.sort((a, b) => a.groupName.localeCompare(b.groupName));
}

/** The group's instance refreshes, newest first. */
export async function describeRefreshes(
  deps: AccountAwsDeps,
  req: Ec2Where & { groupName: string },
): Promise<RefreshState[]> {
  const asg = client(deps, req);
  const out = await call(deps, req, 'DescribeInstanceRefreshes', () =>
    asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: req.groupName })),
  );
  const refreshes = (out.InstanceRefreshes ?? []).map((r): RefreshState => {
    const lt = r.DesiredConfiguration?.LaunchTemplate;
    return {
      instanceRefreshId: r.InstanceRefreshId ?? '',
      status: r.Status ?? 'Unknown',
      ...(r.StatusReason ? { statusReason: r.StatusReason } : {}),
      percentageComplete: r.PercentageComplete ?? 0,
      startedAt: r.StartTime ? new Date(r.StartTime).getTime() : 0,
      desired: lt
        ? {
            ...(lt.LaunchTemplateId ? { launchTemplateId: lt.LaunchTemplateId } : {}),
            ...(lt.LaunchTemplateName ? { launchTemplateName: lt.LaunchTemplateName } : {}),
            ...(lt.Version ? { version: lt.Version } : {}),
          }
        : null,
    };
  });
  return refreshes.sort((a, b) => b.startedAt - a.startedAt);
}

export type RefreshPreferences = {
  minHealthyPercentage: number;
  checkpoints: number[];
  alarms: string[];
  autoRollback: boolean;
};

/**
 * StartInstanceRefresh to `version` of the template through DesiredConfiguration. Another refresh in
 * progress → `{ inProgress: true }` (the caller looks at whose it is).
 */
export async function startRefresh(
  deps: AccountAwsDeps,
  req: Ec2Where & { groupName: string; launchTemplateId: string; version: number; preferences: RefreshPreferences },
): Promise<{ instanceRefreshId: string } | { inProgress: true }> {
  const asg = client(deps, req);
  const p = req.preferences;
  try {
    const out = await call(deps, req, 'StartInstanceRefresh', () =>
      asg.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: req.groupName,
          Strategy: 'Rolling',
          DesiredConfiguration: {
            LaunchTemplate: { LaunchTemplateId: req.launchTemplateId, Version: String(req.version) },
          },
          Preferences: {
            MinHealthyPercentage: p.minHealthyPercentage,
            SkipMatching: true,
            AutoRollback: p.autoRollback,
            ...(p.checkpoints.length ? { CheckpointPercentages: p.checkpoints } : {}),
            ...(p.alarms.length ? { AlarmSpecification: { Alarms: p.alarms } } : {}),
          },
        }),
      ),
    );
    return { instanceRefreshId: out.InstanceRefreshId ?? '' };
  } catch (err) {
    if (err instanceof FleetOpsError && err.context.awsCode?.startsWith('InstanceRefreshInProgress'))
      return { inProgress: true };
    throw err;
  }
}

/** RollbackInstanceRefresh of the group's active refresh; nothing active → `{ rolledBack: false }`. */
export async function rollbackRefresh(
  deps: AccountAwsDeps,
  req: Ec2Where & { groupName: string },
): Promise<{ instanceRefreshId?: string; rolledBack: boolean }> {
  const asg = client(deps, req);
  try {
    const out = await call(deps, req, 'RollbackInstanceRefresh', () =>
      asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: req.groupName })),
    );
    return { rolledBack: true, ...(out.InstanceRefreshId ? { instanceRefreshId: out.InstanceRefreshId } : {}) };
  } catch (err) {
    if (err instanceof FleetOpsError && err.context.awsCode?.startsWith('ActiveInstanceRefreshNotFound'))
      return { rolledBack: false };
    throw err;
  }
}
