import { proxyActivities } from '@temporalio/workflow';
import type { quietActivities } from './quiet-activities';

const { quietSleep } = proxyActivities<typeof quietActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '1 second',
  retry: { maximumAttempts: 1 },
});

/** Runs one activity that works for `ms` without heartbeating itself, under a 1-second heartbeat timeout. */
export async function quietActivity(ms: number): Promise<string> {
  return quietSleep(ms);
}
