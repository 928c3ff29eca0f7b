/**
 * Health alarms firing after a deploy (the plan's `alarms`): once an update to a listed version
 * took effect, the stack's alarm is set to ALARM in moto, at once or after `afterMs` (the only
 * timers the layer uses). Keeps the last fired alarms for the admin view.
 */
import type { BufferedResponse } from '../core/upstream-forwarder';
import { alarmTriggers, type DeployTarget } from './cloudformation-faults';
import { isOk, type CallContext, type LayerState } from './layer-context';
import { motoQuery, type MotoAuth } from './moto-calls';

export interface FiredAlarm {
  account: string;
  region: string;
  alarmName: string;
  stackName: string;
  version: string;
  at: string;
  /** `ALARM` when set, else what went wrong. */
  result: string;
  /** The alarm did not exist in moto and the proxy created a placeholder first. */
  created: boolean;
}

const MAX_FIRED_ALARMS = 1000;

type AlarmAuth = MotoAuth & { account: string };

export class HealthAlarms {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly firedAlarms: FiredAlarm[] = [];

  constructor(private readonly layer: Pick<LayerState, 'forwarder' | 'plan' | 'log' | 'now'>) {}

  /** Alarms set in moto so far (the last 1,000). */
  get fired(): FiredAlarm[] {
    return [...this.firedAlarms];
  }

  /** Alarms waiting for their `afterMs`. */
  get pending(): number {
    return this.timers.size;
  }

  /** Fires (or schedules) the plan's alarms for `stackName` after an update to `target` took effect. */
  async fire(ctx: CallContext, stackName: string, target: DeployTarget): Promise<void> {
    const { account, region, accessKeyId } = ctx;
    for (const trigger of alarmTriggers(this.layer.plan().plan, stackName, target)) {
      const fire = (): Promise<void> =>
        this.setAlarm({ account, region, accessKeyId }, trigger.alarmName, stackName, target.version ?? '').catch(
          (err: unknown) =>
            this.layer.log(
              `aws-proxy cloudformation alarm ${trigger.alarmName} in ${account}/${region} failed: ${(err as Error).message}`,
            ),
        );
      if (trigger.afterMs === 0) {
        await fire();
        continue;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void fire();
      }, trigger.afterMs);
      timer.unref();
      this.timers.add(timer);
    }
  }

  /** Forgets fired alarms and cancels pending ones. */
  reset(): void {
    this.clearTimers();
    this.firedAlarms.length = 0;
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** SetAlarmState ALARM in moto, signed with an access key of that account (creating a placeholder alarm if moto has none). */
  private async setAlarm(auth: AlarmAuth, alarmName: string, stackName: string, version: string): Promise<void> {
    const reason = `fleetops aws-proxy: simulated health alarm after ${stackName} moved to ${version}`;
    const set = (): Promise<BufferedResponse> =>
      motoQuery(this.layer, auth, 'monitoring', {
        Action: 'SetAlarmState',
        AlarmName: alarmName,
        StateValue: 'ALARM',
        StateReason: reason,
      });
    let res = await set();
    let created = false;
    if (!isOk(res) && res.body.toString('utf8').includes('ResourceNotFound')) {
      // moto 5.2.5 does not create AWS::CloudWatch::Alarm stack resources: stand one in.
      const put = await motoQuery(this.layer, auth, 'monitoring', {
        Action: 'PutMetricAlarm',
        AlarmName: alarmName,
        AlarmDescription: `placeholder created by the fleetops aws-proxy for stack ${stackName}`,
        Namespace: 'fleetops/simulated',
        MetricName: 'PipelineHealth',
        Statistic: 'Sum',
        Period: '60',
        EvaluationPeriods: '1',
        Threshold: '1',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      created = isOk(put);
      if (created) res = await set();
    }
    const result = isOk(res) ? 'ALARM' : `SetAlarmState failed: HTTP ${res.status}`;
    this.firedAlarms.push({
      account: auth.account,
      region: auth.region,
      alarmName,
      stackName,
      version,
      at: new Date(this.layer.now()).toISOString(),
      result,
      created,
    });
    if (this.firedAlarms.length > MAX_FIRED_ALARMS) this.firedAlarms.shift();
    this.layer.log(
      `aws-proxy cloudformation alarm ${alarmName} in ${auth.account}/${auth.region} → ${result}${created ? ' (placeholder created)' : ''}`,
    );
  }
}
