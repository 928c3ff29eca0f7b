/**
 * Workflows bundle for the lease tests: the real accountLease lock and a stand-in per-account child
 * (`leaseHolder`) that holds the account through the real withAccountLease for `holdMs` (or until
 * cancelled) and returns when it held it, so the test can show two holders never overlap.
 */
import { sleep } from '@temporalio/workflow';
import type { AccountOperationResult } from '../../../workflows/operation/account-operation';
import { withAccountLease } from '../../../workflows/lease/account-lease-holder';

export { accountLease } from '../../../workflows';

export type LeaseHolderInput = {
  campaignId: string;
  accountId: string;
  holdMs: number;
  leaseWaitSeconds: number;
  plan?: boolean;
};

export async function leaseHolder(
  input: LeaseHolderInput,
): Promise<AccountOperationResult & { heldFrom?: number; heldTo?: number }> {
  let heldFrom: number | undefined;
  const result = await withAccountLease({ plan: false, ...input }, async () => {
    heldFrom = Date.now();
    await sleep(input.holdMs);
    return { accountId: input.accountId, outcome: 'done', regions: [] };
  });
  return { ...result, ...(heldFrom !== undefined ? { heldFrom, heldTo: Date.now() } : {}) };
}
