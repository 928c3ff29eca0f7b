import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import { AccountSelectorSchema } from '../fleet/select-accounts';
import {
  DEFAULT_MAX_SECRET_AGE_DAYS,
  MAX_DRIFTED_ACCOUNTS_LISTED,
  countDrift,
  emptyDriftCounts,
  summarizeDrift,
  type AccountDrift,
  type DriftCounts,
  type DriftKind,
} from '../fleet/inventory-drift';
import { FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE } from './search-attributes';
import type {
  AccountInventory,
  InventoryActivities,
  InventorySelection,
} from '../activities/inventory/inventory-activities';
import { ACCOUNT_CALL_RETRY, LOCAL_CALL_RETRY } from './retry-policies';
import { parseWorkflowInput } from './workflow-input';
import { LOCAL_CALL_TIMEOUTS } from './activity-timeouts';

// ---- messages ----
export type InventoryProgress = {
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  inFlight: number;
  run: number;
};
export const inventoryProgressQuery = defineQuery<InventoryProgress>('progress');

// ---- input (one JSON object; `carry` is set only by continue-as-new) ----
const AccountFailure = z.object({ accountId: z.string(), errorType: z.string(), reason: z.string() });
const Carry = z.object({
  selection: z.object({
    accountIds: z.array(z.string()),
    skipped: z.array(z.object({ id: z.string(), reason: z.string() })),
    unknownIds: z.array(z.string()),
  }),
  next: z.number().int().min(0),
  accounts: z.array(z.custom<AccountInventory>()),
  failures: z.array(AccountFailure),
  startedAt: z.string(),
  run: z.number().int().min(1),
  /** Drift inventories only: the drifted accounts so far (up to MAX_DRIFTED_ACCOUNTS_LISTED) and their counts. */
  drifted: z.array(z.custom<AccountDrift>()).optional(),
  driftCounts: z.custom<DriftCounts>().optional(),
});
type Carry = z.infer<typeof Carry>;

export const FleetInventoryInput = z
  .strictObject({
    /** Path of the fleet file, as the workers see it. */
    fleetFile: z.string().min(1),
    select: AccountSelectorSchema.optional(),
    /** Accounts inspected at once. */
    maxInFlight: z.number().int().min(1).max(1000).default(50),
    /** Accounts per workflow run before continue-as-new (bounds history). */
    accountsPerRun: z.number().int().min(1).max(2000).default(500),
    /**
     * Also compare each account with the fleet file: stack version, images, secret ages (see
     * fleet/inventory-drift.ts). Absent or false: the plain inventory, exactly as before.
     */
    drift: z.boolean({ error: 'expected true or false' }).optional(),
    /** Drift only: a secret whose current value is older than this many days is drift (default 90; fractions allowed). */
    maxSecretAgeDays: z
      .number({ error: 'expected a number of days > 0' })
      .positive({ error: 'expected a number of days > 0' })
      .max(36_500, { error: 'expected at most 36500 days' })
      .optional(),
    carry: Carry.optional(),
  })
  .superRefine((input, ctx) => {
    if (input.maxSecretAgeDays !== undefined && input.drift !== true)
      ctx.addIssue({
        code: 'custom',
        path: ['maxSecretAgeDays'],
        message: 'only with drift: true (the secret age limit of a drift inventory)',
      });
  });
export type FleetInventoryInput = z.input<typeof FleetInventoryInput>;

export type FleetInventoryReport = {
  fleetFile: string;
  total: number;
  succeeded: number;
  failed: number;
  skipped: Array<{ id: string; reason: string }>;
  unknownIds: string[];
  /** Stacks per pipeline version ("missing" for absent stacks). */
  byVersion: Record<string, number>;
  byStackStatus: Record<string, number>;
  accounts: AccountInventory[];
  failures: Array<z.infer<typeof AccountFailure>>;
  startedAt: string;
  finishedAt: string;
  runs: number;
  /** Drift inventories only (input `drift: true`). */
  drift?: DriftReport;
};

/** The drift section of a drift inventory's report: counts, and the drifted accounts with their items. */
export type DriftReport = {
  maxSecretAgeDays: number;
  /** Accounts read (drift is only known for those; failures are listed in `failures`). */
  checkedAccounts: number;
  driftedAccounts: number;
  /** Per kind, how many accounts have at least one item of it. */
  byKind: Record<DriftKind, number>;
  /** Drifted accounts only, each with its items (bounded per account), the first MAX_DRIFTED_ACCOUNTS_LISTED read. */
  accounts: AccountDrift[];
  /** Drifted accounts counted but not listed (beyond MAX_DRIFTED_ACCOUNTS_LISTED). */
  unlisted?: number;
};

const { selectInventoryAccounts } = proxyActivities<InventoryActivities>({
  ...LOCAL_CALL_TIMEOUTS,
  retry: LOCAL_CALL_RETRY,
});
const { inspectAccount, inspectAccountDrift } = proxyActivities<InventoryActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: ACCOUNT_CALL_RETRY,
});

/**
 * Read-only fleet inventory: for each selected account, assume its role and read its pipeline stack
 * in each region. A sliding window of `maxInFlight` activities; continue-as-new every
 * `accountsPerRun` accounts so history stays bounded at any fleet size.
 */
export async function fleetInventory(rawInput: FleetInventoryInput): Promise<FleetInventoryReport> {
  const input = parseWorkflowInput('fleetInventory', FleetInventoryInput, rawInput);
  const info = workflowInfo();
  if (!input.carry)
    upsertSearchAttributes([
      { key: FLEET_OPERATION, value: 'inventory' },
      { key: FLEET_CAMPAIGN_ID, value: info.workflowId },
      { key: FLEET_STATE, value: 'running' },
    ]);

  const selection: InventorySelection =
    input.carry?.selection ?? (await selectInventoryAccounts({ fleetFile: input.fleetFile, select: input.select }));
  const state: Carry = input.carry ?? {
    selection,
    next: 0,
    accounts: [],
    failures: [],
    startedAt: new Date().toISOString(),
    run: 1,
    ...(input.drift ? { drifted: [], driftCounts: emptyDriftCounts() } : {}),
  };
  const ids = selection.accountIds;
  const inFlight = new Map<string, Promise<void>>();

  setHandler(inventoryProgressQuery, () => ({
    total: ids.length,
    done: state.accounts.length + state.failures.length,
    succeeded: state.accounts.length,
    failed: state.failures.length,
    inFlight: inFlight.size,
    run: state.run,
  }));

  const inspect = async (accountId: string) => {
    try {
      if (input.drift) {
        const read = await inspectAccountDrift({
          fleetFile: input.fleetFile,
          accountId,
          runId: info.firstExecutionRunId,
          maxSecretAgeDays: input.maxSecretAgeDays ?? DEFAULT_MAX_SECRET_AGE_DAYS,
        });
        state.accounts.push({ accountId: read.accountId, stacks: read.stacks });
        if (read.drift) {
          state.driftCounts = countDrift(state.driftCounts ?? summarizeDrift(state.drifted ?? []), read.drift);
          if ((state.drifted ??= []).length < MAX_DRIFTED_ACCOUNTS_LISTED) state.drifted.push(read.drift);
        }
      } else
        state.accounts.push(
          await inspectAccount({ fleetFile: input.fleetFile, accountId, runId: info.firstExecutionRunId }),
        );
    } catch (err) {
      state.failures.push({ accountId, ...describeFailure(err) });
    } finally {
      inFlight.delete(accountId);
    }
  };

  let startedThisRun = 0;
  for (;;) {
    while (
      inFlight.size < input.maxInFlight &&
      state.next < ids.length &&
      startedThisRun < input.accountsPerRun &&
      !workflowInfo().continueAsNewSuggested
    ) {
      const accountId = ids[state.next++];
      startedThisRun++;
      inFlight.set(accountId, inspect(accountId));
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }

  if (state.next < ids.length) {
    await continueAsNew<typeof fleetInventory>({ ...input, carry: { ...state, run: state.run + 1 } });
  }
  upsertSearchAttributes([
    { key: FLEET_STATE, value: state.failures.length ? 'completed-with-failures' : 'completed' },
  ]);
  const report = buildReport(input.fleetFile, state);
  return input.drift ? { ...report, drift: buildDriftReport(input.maxSecretAgeDays, state) } : report;
}

function buildDriftReport(maxSecretAgeDays: number | undefined, s: Carry): DriftReport {
  const accounts = [...(s.drifted ?? [])].sort((a, b) => a.accountId.localeCompare(b.accountId));
  const counts = s.driftCounts ?? summarizeDrift(accounts);
  return {
    maxSecretAgeDays: maxSecretAgeDays ?? DEFAULT_MAX_SECRET_AGE_DAYS,
    checkedAccounts: s.accounts.length,
    ...counts,
    accounts,
    ...(counts.driftedAccounts > accounts.length ? { unlisted: counts.driftedAccounts - accounts.length } : {}),
  };
}

function describeFailure(err: unknown): { errorType: string; reason: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { errorType: cause.type ?? 'Error', reason: cause.message };
  return { errorType: (cause as Error)?.name ?? 'Error', reason: (cause as Error)?.message ?? String(cause) };
}

function buildReport(fleetFile: string, s: Carry): FleetInventoryReport {
  const byVersion: Record<string, number> = {};
  const byStackStatus: Record<string, number> = {};
  for (const a of s.accounts) {
    for (const st of a.stacks) {
      const version = st.found ? (st.version ?? 'unknown') : 'missing';
      byVersion[version] = (byVersion[version] ?? 0) + 1;
      const status = st.found ? st.status : 'MISSING';
      byStackStatus[status] = (byStackStatus[status] ?? 0) + 1;
    }
  }
  return {
    fleetFile,
    total: s.selection.accountIds.length,
    succeeded: s.accounts.length,
    failed: s.failures.length,
    skipped: s.selection.skipped,
    unknownIds: s.selection.unknownIds,
    byVersion,
    byStackStatus,
    accounts: s.accounts,
    failures: s.failures,
    startedAt: s.startedAt,
    finishedAt: new Date().toISOString(),
    runs: s.run,
  };
}
