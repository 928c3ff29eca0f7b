/** StartInstanceRefresh's parameters, parsed (zod) from the query form into what the layer keeps. */
import { z } from 'zod';
import { formToObject } from './autoscaling-call';
import type { LaunchTemplateRef, RefreshPreferences } from './instance-refreshes';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const StartInstanceRefreshInput = z.object({
  AutoScalingGroupName: z.string().min(1).max(255),
  Strategy: z.enum(['Rolling']).optional(),
  DesiredConfiguration: z
    .object({
      LaunchTemplate: z
        .object({
          LaunchTemplateId: z.string().min(1).optional(),
          LaunchTemplateName: z.string().min(1).optional(),
          Version: z.string().min(1).optional(),
        })
        .refine((lt) => (lt.LaunchTemplateId === undefined) !== (lt.LaunchTemplateName === undefined), {
          message: 'specify exactly one of LaunchTemplateId and LaunchTemplateName',
        }),
    })
    .optional(),
  Preferences: z
    .object({
      MinHealthyPercentage: int(0, 100).optional(),
      MaxHealthyPercentage: int(100, 200).optional(),
      InstanceWarmup: int(0, 2_147_483_647).optional(),
      CheckpointPercentages: z
        .array(int(1, 100))
        .max(100)
        .refine((l) => l.every((c, i) => i === 0 || c > l[i - 1]), { message: 'must be ascending' })
        .optional(),
      CheckpointDelay: int(0, 172_800).optional(),
      SkipMatching: bool.optional(),
      AutoRollback: bool.optional(),
      ScaleInProtectedInstances: z.enum(['Refresh', 'Ignore', 'Wait']).optional(),
      StandbyInstances: z.enum(['Terminate', 'Ignore', 'Wait']).optional(),
      AlarmSpecification: z.object({ Alarms: z.array(z.string().min(1).max(255)).max(10).optional() }).optional(),
      BakeTime: int(0, 172_800).optional(),
    })
    .optional(),
});

export interface StartRequest {
  groupName: string;
  desired?: LaunchTemplateRef;
  preferences: RefreshPreferences;
}

export type ParsedStart = { ok: true; request: StartRequest } | { ok: false; message: string };

export function parseStartRequest(params: URLSearchParams): ParsedStart {
  const parsed = StartInstanceRefreshInput.safeParse(formToObject(params));
  if (!parsed.success) return { ok: false, message: z.prettifyError(parsed.error) };
  const { AutoScalingGroupName, DesiredConfiguration, Preferences: p } = parsed.data;
  if (p?.AutoRollback && !DesiredConfiguration)
    return { ok: false, message: 'AutoRollback requires a DesiredConfiguration.' };
  const lt = DesiredConfiguration?.LaunchTemplate;
  return {
    ok: true,
    request: {
      groupName: AutoScalingGroupName,
      desired: lt
        ? { launchTemplateId: lt.LaunchTemplateId, launchTemplateName: lt.LaunchTemplateName, version: lt.Version }
        : undefined,
      preferences: {
        minHealthyPercentage: p?.MinHealthyPercentage,
        maxHealthyPercentage: p?.MaxHealthyPercentage,
        instanceWarmup: p?.InstanceWarmup,
        checkpointPercentages: p?.CheckpointPercentages,
        checkpointDelay: p?.CheckpointDelay,
        skipMatching: p?.SkipMatching,
        autoRollback: p?.AutoRollback,
        scaleInProtectedInstances: p?.ScaleInProtectedInstances,
        standbyInstances: p?.StandbyInstances,
        alarms: p?.AlarmSpecification?.Alarms,
        bakeTime: p?.BakeTime,
      },
    },
  };
}
