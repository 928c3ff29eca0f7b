/**
 * The baseline of the upgrade benches: the same AWS calls as accountUpgrade — read the stack, check the
 * health alarm (accountUpgrade leaves an account already in ALARM alone), create + describe the change
 * set, execute, wait, check the health alarm again — straight from the activities, no
 * Temporal, MAX_IN_FLIGHT accounts at once. Uses the same rate budgets as a worker (the shared store
 * when the environment names one), so the ratio to a campaign measures the engine, not the budgets.
 */
import pino from 'pino';
import { mapPool } from '../cli/map-pool';
import { healthAlarmName } from '../fleet/pipeline-stack';
import type { FleetAccount } from '../fleet/fleet-schema';
import { createUpgradeActivities } from '../activities/upgrade/upgrade-activities';
import { createFleetActivities } from '../worker/fleet-activities';
import { loadWorkerConfig } from '../worker/worker-config';

/** Moves every account to `version`; returns the wall time in seconds and prints it. */
export async function runPlainUpgrade(o: {
  accounts: FleetAccount[];
  fleetFile: string;
  maxInFlight: number;
  stamp: string;
  version: string;
}): Promise<number> {
  const { shared, close } = createFleetActivities(loadWorkerConfig(), pino({ level: 'silent' }));
  const a = createUpgradeActivities(shared);
  const startedAt = Date.now();
  try {
    await mapPool(o.accounts, o.maxInFlight, async (account) => {
      for (const region of account.regions) {
        const t = { fleetFile: o.fleetFile, accountId: account.id, region, runId: `plain-${o.accounts.length}` };
        const stack = await a.readPipelineStack(t);
        if (stack.found && stack.version === o.version) continue;
        const alarmNames = [healthAlarmName(account.pipeline.stackName)];
        const before = await a.readAlarmStates({ ...t, alarmNames });
        if (before.alarms.some((al) => al.state === 'ALARM')) continue;
        const changeSetName = `plain-bench-${o.stamp}`;
        await a.createChangeSet({
          ...t,
          changeSetName,
          clientToken: `plain-create-${o.stamp}-${account.id}-${region}`,
          targetVersion: o.version,
        });
        await a.waitForChangeSet({ ...t, changeSetName });
        await a.executeChangeSet({
          ...t,
          changeSetName,
          clientRequestToken: `plain-exec-${o.stamp}-${account.id}-${region}`,
        });
        await a.waitForStackStatus(t);
        await a.readAlarmStates({ ...t, alarmNames });
      }
    });
  } finally {
    close();
  }
  const seconds = (Date.now() - startedAt) / 1000;
  console.log(
    `plain script:  ${o.accounts.length} accounts in ${seconds.toFixed(1)} s (${((o.accounts.length / seconds) * 60).toFixed(0)} accounts/min)`,
  );
  return seconds;
}
