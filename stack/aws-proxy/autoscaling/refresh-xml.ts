/** An instance refresh as DescribeInstanceRefreshes answers it (`<member>` of `<InstanceRefreshes>`). */
import { leaf, node, type XmlElement } from '../ec2/ec2-xml';
import type { InstanceRefresh, LaunchTemplateRef, RefreshPreferences } from './instance-refreshes';
import type { RefreshState } from './refresh-timeline';

const opt = (name: string, value: string | number | boolean | undefined): XmlElement | undefined =>
  value === undefined ? undefined : leaf(name, String(value));
const iso = (ms: number): string => new Date(ms).toISOString();

export function statusReason(refresh: InstanceRefresh, state: RefreshState): string | undefined {
  const image = refresh.desired?.imageId ?? 'the desired configuration';
  switch (state.status) {
    case 'Pending':
      return 'Waiting for the instance refresh to start.';
    case 'InProgress':
      return `Replacing instances with ${image}.`;
    case 'Baking':
      return 'Waiting for the bake time to pass after the last instance was replaced.';
    case 'Cancelling':
      return 'Cancelling the instance refresh.';
    case 'Cancelled':
      return 'The instance refresh was cancelled.';
    case 'Failed':
      return state.cause === 'alarm'
        ? 'An alarm of the alarm specification went to ALARM.'
        : `Instances launched from ${image} failed their health checks.`;
    case 'RollbackInProgress':
    case 'RollbackSuccessful':
    case 'RollbackFailed': {
      const why =
        state.cause === 'requested'
          ? 'Rollback requested.'
          : state.cause === 'alarm'
            ? 'An alarm of the alarm specification went to ALARM: rolling back.'
            : `Instances launched from ${image} failed their health checks: rolling back.`;
      return state.status === 'RollbackFailed' ? `${why} The rollback failed: instances did not become healthy.` : why;
    }
    default:
      return undefined;
  }
}

function launchTemplate(lt: LaunchTemplateRef): XmlElement {
  return node('LaunchTemplate', [
    opt('LaunchTemplateId', lt.launchTemplateId),
    opt('LaunchTemplateName', lt.launchTemplateName),
    opt('Version', lt.version),
  ]);
}

function preferences(p: RefreshPreferences): XmlElement {
  return node('Preferences', [
    opt('MinHealthyPercentage', p.minHealthyPercentage ?? 90),
    opt('MaxHealthyPercentage', p.maxHealthyPercentage),
    opt('InstanceWarmup', p.instanceWarmup),
    p.checkpointPercentages
      ? node(
          'CheckpointPercentages',
          p.checkpointPercentages.map((c) => leaf('member', String(c))),
        )
      : undefined,
    opt('CheckpointDelay', p.checkpointDelay),
    opt('SkipMatching', p.skipMatching ?? false),
    opt('AutoRollback', p.autoRollback ?? false),
    opt('ScaleInProtectedInstances', p.scaleInProtectedInstances ?? 'Ignore'),
    opt('StandbyInstances', p.standbyInstances ?? 'Ignore'),
    p.alarms
      ? node('AlarmSpecification', [
          node(
            'Alarms',
            p.alarms.map((a) => leaf('member', a)),
          ),
        ])
      : undefined,
    opt('BakeTime', p.bakeTime),
  ]);
}

const toUpdate = (refresh: InstanceRefresh, percent: number): number =>
  Math.max(0, Math.round(refresh.instances * (1 - percent / 100)));

export function refreshMember(refresh: InstanceRefresh, state: RefreshState): XmlElement {
  const percent = state.percentageComplete;
  const rollback = state.rollback;
  return node('member', [
    leaf('InstanceRefreshId', refresh.instanceRefreshId),
    leaf('AutoScalingGroupName', refresh.groupName),
    leaf('Status', state.status),
    opt('StatusReason', statusReason(refresh, state)),
    leaf('StartTime', iso(refresh.times.startedAt)),
    opt('EndTime', state.endedAt === undefined ? undefined : iso(state.endedAt)),
    leaf('PercentageComplete', String(percent)),
    leaf('InstancesToUpdate', String(toUpdate(refresh, percent))),
    node('ProgressDetails', [
      node('LivePoolProgress', [
        leaf('PercentageComplete', String(percent)),
        leaf('InstancesToUpdate', String(toUpdate(refresh, percent))),
      ]),
    ]),
    preferences(refresh.preferences),
    refresh.desired ? node('DesiredConfiguration', [launchTemplate(refresh.desired)]) : undefined,
    rollback
      ? node('RollbackDetails', [
          leaf('RollbackReason', statusReason(refresh, state) ?? ''),
          leaf('RollbackStartTime', iso(rollback.startedAt)),
          leaf('PercentageCompleteOnRollback', String(rollback.percentageComplete)),
          leaf('InstancesToUpdateOnRollback', String(toUpdate(refresh, rollback.percentageComplete))),
          node('ProgressDetailsOnRollback', [
            node('LivePoolProgress', [
              leaf('PercentageComplete', String(rollback.percentageComplete)),
              leaf('InstancesToUpdate', String(toUpdate(refresh, rollback.percentageComplete))),
            ]),
          ]),
        ])
      : undefined,
    leaf('Strategy', 'Rolling'),
  ]);
}
