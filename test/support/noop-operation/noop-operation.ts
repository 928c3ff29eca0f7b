/**
 * A throwaway fleet operation that lives only in the tests: proof that an operation is its own files
 * plus a registration. Its child touches each account once through an activity (which reads the
 * account from the fleet file, as real operations do) and reports `touched`.
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import {
  accountOperationInputSchema,
  type AccountOperationInput,
  type AccountOperationResult,
} from '../../../workflows/operation/account-operation';
import { defineOperation } from '../../../workflows/operation/operation-definition';
import { FLEET_STATE } from '../../../workflows/search-attributes';
import { parseWorkflowInput } from '../../../workflows/workflow-input';
import type { NoopActivities } from './noop-activities';

export const NoopParamsSchema = z.strictObject({
  /** shown as the campaign's target */
  note: z.string().min(1),
  /** accounts whose touch fails (the budget counts them) */
  failAccounts: z.array(z.string()).default([]),
});
const AccountNoopInputSchema = accountOperationInputSchema('noop', 'noop', NoopParamsSchema);

const { touchAccount } = proxyActivities<NoopActivities>({ startToCloseTimeout: '10 seconds' });

export async function accountNoop(raw: AccountOperationInput): Promise<AccountOperationResult> {
  const input = parseWorkflowInput('accountNoop', AccountNoopInputSchema, raw);
  const fails = input.noop.failAccounts.includes(input.accountId);
  await touchAccount({ fleetFile: input.fleetFile, accountId: input.accountId, attempt: input.attempt });
  const outcome = fails ? 'failed' : 'touched';
  upsertSearchAttributes([{ key: FLEET_STATE, value: outcome }]);
  return { accountId: input.accountId, outcome, regions: [], ...(fails ? { reason: 'asked to fail' } : {}) };
}

export const noopOperation = defineOperation({
  name: 'noop',
  paramsField: 'noop',
  params: NoopParamsSchema,
  childWorkflow: accountNoop,
  doneOutcome: 'touched',
  target: (p) => p.note,
  cliFlags: [{ flag: '--note <text>', param: 'note', kind: 'text', required: true, description: 'noop: a note' }],
  runbooks: { NoopFailed: 'docs/runbooks/worker-down.md' },
});
