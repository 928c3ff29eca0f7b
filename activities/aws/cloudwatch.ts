import { DescribeAlarmsCommand, type DescribeAlarmsCommandOutput } from '@aws-sdk/client-cloudwatch';
import type { AccountAwsDeps, AccountRegion } from './account-region';
import { callAws } from './aws-call';

/** One alarm's state: OK | ALARM | INSUFFICIENT_DATA. */
export type AlarmState = { name: string; state: string; reason?: string };

/** DescribeAlarms takes at most 100 names per call. */
const MAX_NAMES_PER_CALL = 100;

/**
 * Reads the states of the named alarms (metric and composite) in one account and region.
 * Names with no alarm are listed in `missing` rather than failing.
 */
export async function describeAlarmStates(
  deps: AccountAwsDeps,
  req: AccountRegion & { alarmNames: string[] },
): Promise<{ alarms: AlarmState[]; missing: string[] }> {
  const { account, region, runId } = req;
  const cw = deps.clients.cloudWatch(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
  const alarms: AlarmState[] = [];
  const names = [...new Set(req.alarmNames)];
  for (let i = 0; i < names.length; i += MAX_NAMES_PER_CALL) {
    const batch = names.slice(i, i + MAX_NAMES_PER_CALL);
    let nextToken: string | undefined;
    do {
      const page: DescribeAlarmsCommandOutput = await callAws(
        deps.limits,
        { family: 'monitoring', api: 'DescribeAlarms', region, accountId: account.id },
        () =>
          cw.send(
            new DescribeAlarmsCommand({
              AlarmNames: batch,
              AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
              NextToken: nextToken,
            }),
          ),
      );
      for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (!a.AlarmName) continue;
        alarms.push({
          name: a.AlarmName,
          state: a.StateValue ?? 'INSUFFICIENT_DATA',
          ...(a.StateReason ? { reason: a.StateReason } : {}),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  const found = new Set(alarms.map((a) => a.name));
  return { alarms, missing: names.filter((n) => !found.has(n)) };
}
