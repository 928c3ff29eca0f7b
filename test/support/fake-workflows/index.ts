/**
 * Workflows bundle for engine tests: the real fleetCampaign with a stand-in per-account child whose
 * behaviour the test drives through a test-process activity (`fakeAccountWork`), so wave order,
 * window size, budgets and timing can be asserted without AWS. The real child is tested on the local stack.
 */
import { proxyActivities, sleep, workflowInfo, condition, setHandler, defineSignal } from '@temporalio/workflow';
import type { AccountOperationInput, AccountOperationResult } from '../../../workflows/operation/account-operation';
import type { FakeAccountActivities } from '../fake-account-activities';

// By its public export (workflows/index.ts), not the file that holds it today.
export { fleetCampaign } from '../../../workflows';

const { fakeAccountStarted, fakeAccountFinished } = proxyActivities<FakeAccountActivities>({
  startToCloseTimeout: '10 seconds',
});

export async function accountUpgrade(input: AccountOperationInput): Promise<AccountOperationResult> {
  let approved = false;
  setHandler(defineSignal('approveAccount'), () => void (approved = true));
  const behaviour = await fakeAccountStarted({
    accountId: input.accountId,
    attempt: input.attempt,
    at: Date.now(),
    workflowId: workflowInfo().workflowId,
    plan: input.plan,
  });
  if (behaviour.waitForApproval) await condition(() => approved);
  await sleep(behaviour.durationMs);
  await fakeAccountFinished({ accountId: input.accountId, at: Date.now(), workflowId: workflowInfo().workflowId });
  return { accountId: input.accountId, outcome: behaviour.outcome, reason: behaviour.reason, regions: [] };
}
