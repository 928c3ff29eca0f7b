import type { Client } from '@temporalio/client';
import { ACCOUNT_PROGRESS_QUERY, type AccountProgress } from '../../workflows/operation/account-operation';

/**
 * Fires an alarm while an account's child is in its bake — after the change, as a bad change would
 * (an alarm already in ALARM before the change leaves the account alone as unhealthy-before instead).
 * Polls the child's progress query until its phase is `baking`, then calls `fire`. The bake must be long
 * enough for one poll and `fire` (several seconds). Throws if the child ends without baking.
 */
export async function alarmDuringBake(
  client: Client,
  childWorkflowId: string,
  fire: () => Promise<unknown>,
  timeoutMs = 120_000,
): Promise<void> {
  const handle = client.workflow.getHandle(childWorkflowId);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const progress = await handle.query<AccountProgress>(ACCOUNT_PROGRESS_QUERY).catch(() => undefined);
    if (progress?.phase.startsWith('baking')) {
      await fire();
      return;
    }
    const status = await handle
      .describe()
      .then((d) => d.status.name)
      .catch(() => 'NOT_STARTED');
    if (status !== 'RUNNING' && status !== 'NOT_STARTED')
      throw new Error(`${childWorkflowId} ended (${status}) before its bake: no alarm fired`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${childWorkflowId} never reached its bake within ${timeoutMs} ms`);
}
