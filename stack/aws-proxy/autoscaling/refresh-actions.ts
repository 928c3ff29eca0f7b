/**
 * The four instance-refresh actions moto lacks (StartInstanceRefresh, DescribeInstanceRefreshes,
 * CancelInstanceRefresh, RollbackInstanceRefresh) and `settle`, run before any read of a group:
 * it places someone else's refresh where the plan says so, checks the AlarmSpecification alarms of a
 * running refresh, and sets the group's launch template in moto once a refresh is Successful.
 */
import { randomUUID } from 'node:crypto';
import { isOk, type LayerResponse } from '../core/service-layer';
import { childOf, childText, findElement, leaf, node, parseXml } from '../ec2/ec2-xml';
import type { AutoScalingCall } from './autoscaling-call';
import {
  DEFAULT_PENDING_MS,
  foreignRefreshMs,
  imageAlarmTriggers,
  poisonedAt,
  refreshDurationMs,
  rollbackFails,
  type AutoScalingPlan,
  type GroupRef,
} from './autoscaling-faults';
import type { ImageAlarms } from './image-alarms';
import type { InstanceRefresh, InstanceRefreshes, LaunchTemplateRef } from './instance-refreshes';
import { refreshMember } from './refresh-xml';
import { RUNNING, refreshStateAt } from './refresh-timeline';
import { parseStartRequest } from './start-request';

export interface RefreshContext {
  refreshes: InstanceRefreshes;
  alarms: ImageAlarms;
  /** The current `autoscaling` plan section and when the plan was installed. */
  plan: () => { plan: AutoScalingPlan | undefined; setAt: number };
}

const NUMBERED = /^\d+$/;

function groupOf(call: AutoScalingCall, groupName: string): GroupRef {
  return { account: call.account, region: call.region, groupName };
}

/** The group's launch template and instance count in moto, or undefined when moto has no such group. */
async function readGroup(
  call: AutoScalingCall,
  groupName: string,
): Promise<{ launchTemplate?: LaunchTemplateRef; instances: number } | undefined> {
  const res = await call.motoAs('autoscaling', {
    Action: 'DescribeAutoScalingGroups',
    'AutoScalingGroupNames.member.1': groupName,
  });
  if (!isOk(res)) return undefined;
  const group = childOf(findElement(parseXml(res.body.toString('utf8')), 'AutoScalingGroups'), 'member');
  if (!group) return undefined;
  const lt = childOf(group, 'LaunchTemplate');
  return {
    launchTemplate: lt
      ? {
          launchTemplateId: childText(lt, 'LaunchTemplateId'),
          launchTemplateName: childText(lt, 'LaunchTemplateName'),
          version: childText(lt, 'Version'),
        }
      : undefined,
    instances: childOf(group, 'Instances')?.children.length ?? 0,
  };
}

/** The desired launch template version in moto: ids completed, its image. */
async function readLaunchTemplateVersion(
  call: AutoScalingCall,
  lt: LaunchTemplateRef,
): Promise<(LaunchTemplateRef & { imageId?: string; versionNumber?: string }) | undefined> {
  const params: Record<string, string> = {
    Action: 'DescribeLaunchTemplateVersions',
    'LaunchTemplateVersion.1': lt.version ?? '$Default',
  };
  if (lt.launchTemplateId) params.LaunchTemplateId = lt.launchTemplateId;
  else if (lt.launchTemplateName) params.LaunchTemplateName = lt.launchTemplateName;
  const res = await call.motoAs('ec2', params);
  if (!isOk(res)) return undefined;
  const item = childOf(findElement(parseXml(res.body.toString('utf8')), 'launchTemplateVersionSet'), 'item');
  if (!item) return undefined;
  return {
    launchTemplateId: childText(item, 'launchTemplateId'),
    launchTemplateName: childText(item, 'launchTemplateName'),
    version: lt.version,
    versionNumber: childText(item, 'versionNumber'),
    imageId: childText(childOf(item, 'launchTemplateData'), 'imageId'),
  };
}

/** Places someone else's refresh on the group when the plan says so (once per plan installation). */
function placeForeignRefresh(ctx: RefreshContext, call: AutoScalingCall, group: GroupRef): void {
  const { plan, setAt } = ctx.plan();
  const durationMs = foreignRefreshMs(plan, group);
  if (durationMs === undefined || !ctx.refreshes.placeForeign(group, setAt)) return;
  if (ctx.refreshes.active(group, call.moto.now())) return;
  ctx.refreshes.add({
    ...group,
    instanceRefreshId: randomUUID(),
    startedBy: 'someone-else',
    times: {
      startedAt: call.moto.now(),
      pendingMs: 0,
      durationMs,
      checkpoints: [],
      checkpointDelayMs: 0,
      bakeMs: 0,
      autoRollback: false,
      rollbackFails: false,
    },
    preferences: {},
    instances: 0,
    applied: true, // nothing of ours to apply
  });
}

/** Records an AlarmSpecification alarm seen in ALARM while the refresh runs. */
async function checkAlarms(call: AutoScalingCall, refresh: InstanceRefresh): Promise<void> {
  const names = refresh.preferences.alarms ?? [];
  if (names.length === 0 || refresh.times.alarmAt !== undefined) return;
  const params: Record<string, string> = { Action: 'DescribeAlarms' };
  names.forEach((n, i) => (params[`AlarmNames.member.${i + 1}`] = n));
  const res = await call.motoAs('monitoring', params);
  if (!isOk(res)) return;
  const alarms = findElement(parseXml(res.body.toString('utf8')), 'MetricAlarms');
  if ((alarms?.children ?? []).some((a) => childText(a, 'StateValue') === 'ALARM'))
    refresh.times.alarmAt = call.moto.now();
}

/** Sets the group's launch template to the refresh's desired configuration in moto. */
async function applyDesired(call: AutoScalingCall, refresh: InstanceRefresh): Promise<void> {
  const desired = refresh.desired;
  if (!desired) return;
  const params: Record<string, string> = {
    Action: 'UpdateAutoScalingGroup',
    AutoScalingGroupName: refresh.groupName,
    'LaunchTemplate.Version': desired.version ?? '$Default',
  };
  if (desired.launchTemplateId) params['LaunchTemplate.LaunchTemplateId'] = desired.launchTemplateId;
  else if (desired.launchTemplateName) params['LaunchTemplate.LaunchTemplateName'] = desired.launchTemplateName;
  const res = await call.motoAs('autoscaling', params);
  if (isOk(res)) refresh.applied = true;
}

/** Brings the refreshes of `groups` (all in the account and region when omitted) up to now. */
export async function settle(ctx: RefreshContext, call: AutoScalingCall, groups?: string[]): Promise<void> {
  const refreshes = groups
    ? groups.flatMap((g) => {
        placeForeignRefresh(ctx, call, groupOf(call, g));
        return ctx.refreshes.of(groupOf(call, g));
      })
    : ctx.refreshes.inRegion(call.account, call.region);
  for (const refresh of refreshes) {
    const status = refreshStateAt(refresh.times, call.moto.now()).status;
    if (RUNNING.has(status)) await checkAlarms(call, refresh);
    else if (status === 'Successful' && !refresh.applied) await applyDesired(call, refresh);
  }
}

export async function startInstanceRefresh(ctx: RefreshContext, call: AutoScalingCall): Promise<LayerResponse> {
  const parsed = parseStartRequest(call.params);
  if (!parsed.ok) return call.error('ValidationError', parsed.message);
  const { groupName, desired: asked, preferences } = parsed.request;
  const group = groupOf(call, groupName);
  await settle(ctx, call, [groupName]);
  if (ctx.refreshes.active(group, call.moto.now()))
    return call.error(
      'InstanceRefreshInProgress',
      'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
    );
  const current = await readGroup(call, groupName);
  if (!current) return call.error('ValidationError', `AutoScalingGroup name not found - ${groupName}`);
  const desired = asked ? await readLaunchTemplateVersion(call, asked) : undefined;
  if (asked && !desired)
    return call.error(
      'ValidationError',
      `You must use a valid fully-formed launch template. The launch template ${asked.launchTemplateId ?? asked.launchTemplateName} version ${asked.version ?? '$Default'} does not exist.`,
    );

  const { plan } = ctx.plan();
  const scale = plan?.msPerAwsSecond ?? 1;
  const matches =
    preferences.skipMatching === true &&
    desired !== undefined &&
    current.launchTemplate?.launchTemplateId === desired.launchTemplateId &&
    current.launchTemplate?.version === desired.version;
  const refresh: InstanceRefresh = {
    ...group,
    instanceRefreshId: randomUUID(),
    startedBy: 'client',
    times: {
      startedAt: call.moto.now(),
      pendingMs: plan?.pendingMs ?? DEFAULT_PENDING_MS,
      durationMs: matches ? 0 : refreshDurationMs(plan, group),
      checkpoints: (preferences.checkpointPercentages ?? []).filter((c) => c < 100),
      checkpointDelayMs: Math.round((preferences.checkpointDelay ?? 3600) * scale),
      bakeMs: Math.round((preferences.bakeTime ?? 0) * scale),
      autoRollback: preferences.autoRollback ?? false,
      rollbackFails: rollbackFails(plan, group),
      failAtPercent: matches ? undefined : poisonedAt(plan, call.account, desired?.imageId),
    },
    desired: desired
      ? {
          launchTemplateId: desired.launchTemplateId,
          launchTemplateName: desired.launchTemplateName,
          version: desired.version,
          imageId: desired.imageId,
        }
      : undefined,
    previous: current.launchTemplate,
    preferences,
    instances: current.instances,
    applied: desired === undefined,
  };
  if (refresh.times.checkpoints.length === 0) refresh.times.checkpointDelayMs = 0;
  ctx.refreshes.add(refresh);
  ctx.alarms.schedule(refresh, imageAlarmTriggers(plan, group, desired?.imageId));
  return call.result('StartInstanceRefresh', [leaf('InstanceRefreshId', refresh.instanceRefreshId)], 'started');
}

export async function describeInstanceRefreshes(ctx: RefreshContext, call: AutoScalingCall): Promise<LayerResponse> {
  const groupName = call.params.get('AutoScalingGroupName');
  if (!groupName) return call.error('ValidationError', 'AutoScalingGroupName is required.');
  await settle(ctx, call, [groupName]);
  const ids = [...call.params].filter(([n]) => /^InstanceRefreshIds\.member\.\d+$/.test(n)).map(([, v]) => v);
  const now = call.moto.now();
  const members = ctx.refreshes
    .of(groupOf(call, groupName))
    .filter((r) => ids.length === 0 || ids.includes(r.instanceRefreshId))
    .map((r) => refreshMember(r, refreshStateAt(r.times, now)));
  return call.result('DescribeInstanceRefreshes', [node('InstanceRefreshes', members)], 'described');
}

export async function cancelInstanceRefresh(ctx: RefreshContext, call: AutoScalingCall): Promise<LayerResponse> {
  const groupName = call.params.get('AutoScalingGroupName');
  if (!groupName) return call.error('ValidationError', 'AutoScalingGroupName is required.');
  await settle(ctx, call, [groupName]);
  const refresh = ctx.refreshes.running(groupOf(call, groupName), call.moto.now());
  if (!refresh)
    return call.error(
      'ActiveInstanceRefreshNotFound',
      `No in progress or pending Instance Refresh found for Auto Scaling group ${groupName}`,
    );
  refresh.times.cancelAt = call.moto.now();
  return call.result('CancelInstanceRefresh', [leaf('InstanceRefreshId', refresh.instanceRefreshId)], 'cancelling');
}

export async function rollbackInstanceRefresh(ctx: RefreshContext, call: AutoScalingCall): Promise<LayerResponse> {
  const groupName = call.params.get('AutoScalingGroupName');
  if (!groupName) return call.error('ValidationError', 'AutoScalingGroupName is required.');
  await settle(ctx, call, [groupName]);
  const refresh = ctx.refreshes.running(groupOf(call, groupName), call.moto.now());
  if (!refresh)
    return call.error(
      'ActiveInstanceRefreshNotFound',
      `No in progress or pending Instance Refresh found for Auto Scaling group ${groupName}`,
    );
  const reversible =
    refresh.desired !== undefined &&
    NUMBERED.test(refresh.desired.version ?? '') &&
    NUMBERED.test(refresh.previous?.version ?? '');
  if (!reversible)
    return call.error(
      'IrreversibleInstanceRefresh',
      'The instance refresh cannot be rolled back: it needs a DesiredConfiguration with a numbered launch template version, and the group a numbered version before it.',
    );
  refresh.times.rollbackAt = call.moto.now();
  return call.result('RollbackInstanceRefresh', [leaf('InstanceRefreshId', refresh.instanceRefreshId)], 'rolling-back');
}
