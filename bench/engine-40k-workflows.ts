/**
 * Workflows bundle for bench/engine-40k.bench.ts: the real fleetCampaign with the cheapest stand-in
 * per-account child — no activity, no timer, one workflow task — so 40,000 children fit in a bench on
 * a small machine. 1 in 100 accounts (id ending in 50 modulo 100) fails, so problems are carried too.
 */
import type { AccountOperationInput, AccountOperationResult } from '../workflows/operation/account-operation';

export { fleetCampaign } from '../workflows';

export async function accountUpgrade(input: AccountOperationInput): Promise<AccountOperationResult> {
  const fails = Number(input.accountId.slice(-2)) === 50;
  return fails
    ? { accountId: input.accountId, outcome: 'failed', reason: `stand-in failure of ${input.accountId}`, regions: [] }
    : { accountId: input.accountId, outcome: 'upgraded', regions: [] };
}
