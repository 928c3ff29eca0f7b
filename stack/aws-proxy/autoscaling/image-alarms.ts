/**
 * Alarms after an image (the plan's `alarms`): `afterMs` after a refresh to a listed image is
 * Successful, a CloudWatch alarm of the account goes to ALARM in moto (a placeholder alarm is put
 * first when moto has none). Timers are the only ones the layer uses; when one fires, the refresh
 * must still be Successful (a cancelled or rolled-back refresh fires nothing).
 */
import { isOk } from '../core/service-layer';
import { motoIn, type MotoAccess } from './autoscaling-call';
import type { ImageAlarmTrigger } from './autoscaling-faults';
import type { InstanceRefresh } from './instance-refreshes';
import { refreshStateAt, successAt } from './refresh-timeline';

export interface FiredImageAlarm {
  account: string;
  region: string;
  groupName: string;
  alarmName: string;
  imageId: string;
  instanceRefreshId: string;
  at: string;
  /** `ALARM` when set, else what went wrong. */
  result: string;
}

const MAX_FIRED = 1000;

export class ImageAlarms {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly firedAlarms: FiredImageAlarm[] = [];

  constructor(
    private readonly moto: MotoAccess,
    private readonly log: (line: string) => void,
  ) {}

  get fired(): FiredImageAlarm[] {
    return [...this.firedAlarms];
  }

  get pending(): number {
    return this.timers.size;
  }

  schedule(refresh: InstanceRefresh, triggers: ImageAlarmTrigger[]): void {
    for (const trigger of triggers) {
      const wait = Math.max(0, successAt(refresh.times) + trigger.afterMs - this.moto.now());
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (refreshStateAt(refresh.times, this.moto.now()).status !== 'Successful') return;
        this.setAlarm(refresh, trigger.alarmName).catch((err: unknown) =>
          this.log(`aws-proxy autoscaling alarm ${trigger.alarmName} failed: ${(err as Error).message}`),
        );
      }, wait);
      timer.unref();
      this.timers.add(timer);
    }
  }

  reset(): void {
    this.clearTimers();
    this.firedAlarms.length = 0;
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async setAlarm(refresh: InstanceRefresh, alarmName: string): Promise<void> {
    const imageId = refresh.desired?.imageId ?? '';
    const set = () =>
      motoIn(this.moto, refresh, 'monitoring', {
        Action: 'SetAlarmState',
        AlarmName: alarmName,
        StateValue: 'ALARM',
        StateReason: `fleetops aws-proxy: simulated alarm after ${refresh.groupName} moved to ${imageId}`,
      });
    let res = await set();
    if (!isOk(res) && res.body.toString('utf8').includes('ResourceNotFound')) {
      const put = await motoIn(this.moto, refresh, 'monitoring', {
        Action: 'PutMetricAlarm',
        AlarmName: alarmName,
        AlarmDescription: `placeholder created by the fleetops aws-proxy for group ${refresh.groupName}`,
        Namespace: 'fleetops/simulated',
        MetricName: 'PipelineHealth',
        Statistic: 'Sum',
        Period: '60',
        EvaluationPeriods: '1',
        Threshold: '1',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      if (isOk(put)) res = await set();
    }
    const result = isOk(res) ? 'ALARM' : `SetAlarmState failed: HTTP ${res.status}`;
    this.firedAlarms.push({
      account: refresh.account,
      region: refresh.region,
      groupName: refresh.groupName,
      alarmName,
      imageId,
      instanceRefreshId: refresh.instanceRefreshId,
      at: new Date(this.moto.now()).toISOString(),
      result,
    });
    if (this.firedAlarms.length > MAX_FIRED) this.firedAlarms.shift();
    this.log(`aws-proxy autoscaling alarm ${alarmName} in ${refresh.account}/${refresh.region} → ${result}`);
  }
}
