/** Choosing the accounts a campaign works on. Pure and deterministic. */
import { z } from 'zod';
import { isAwsRegion } from './aws-regions';
import { ACCOUNT_ID_PATTERN, ACCOUNT_STATES, RINGS, type AccountState } from './fleet-fields';
import type { FleetAccount } from './fleet-schema';

/**
 * Every given filter must match (AND). Lists must not be empty (an empty list would silently select
 * nothing or everything). `{}` selects every active account.
 */
export const AccountSelectorSchema = z.strictObject({
  /** Only these accounts. Ids not in the fleet are reported in `unknownIds`. */
  ids: z
    .array(z.string().regex(ACCOUNT_ID_PATTERN, { error: 'expected a 12-digit account id' }))
    .min(1)
    .optional(),
  /** Accounts in any of these rings. */
  rings: z.array(z.enum(RINGS)).min(1).optional(),
  /** Accounts carrying all of these tags with these values. */
  tags: z.record(z.string(), z.string()).optional(),
  /** Accounts running in any of these regions. */
  regions: z
    .array(
      z.string().refine((name): boolean => isAwsRegion(name), { error: 'expected an AWS region name like eu-west-1' }),
    )
    .min(1)
    .optional(),
  /** States that are worked on; other matching accounts are reported in `skipped`. Default: only active. */
  includeStates: z.array(z.enum(ACCOUNT_STATES)).min(1).default(['active']),
});
/** A selector as given (includeStates optional); `{}` selects every active account. */
export type AccountSelector = z.input<typeof AccountSelectorSchema>;

export type AccountSelection = {
  /** In fleet file order. */
  selected: FleetAccount[];
  /** Accounts that matched the filters but whose state is not included: reason "paused", "quarantined: <reason>". */
  skipped: Array<{ id: string; reason: string }>;
  /** Ids asked for that are not in the fleet, in the order asked. */
  unknownIds: string[];
};

export function selectAccounts(accounts: readonly FleetAccount[], selector: AccountSelector): AccountSelection {
  const ids = selector.ids ? new Set(selector.ids) : undefined;
  const rings = selector.rings ? new Set<string>(selector.rings) : undefined;
  const regions = selector.regions ? new Set<string>(selector.regions) : undefined;
  const tags = Object.entries(selector.tags ?? {});
  const states = new Set<AccountState>(selector.includeStates ?? ['active']);

  const selected: FleetAccount[] = [];
  const skipped: AccountSelection['skipped'] = [];
  const seen = new Set<string>();
  for (const account of accounts) {
    seen.add(account.id);
    if (ids && !ids.has(account.id)) continue;
    if (rings && !rings.has(account.ring)) continue;
    if (regions && !account.regions.some((region) => regions.has(region))) continue;
    if (!tags.every(([key, value]) => account.tags[key] === value)) continue;
    if (states.has(account.state)) selected.push(account);
    else skipped.push({ id: account.id, reason: stateReason(account) });
  }
  const unknownIds = selector.ids ? [...new Set(selector.ids)].filter((id) => !seen.has(id)) : [];
  return { selected, skipped, unknownIds };
}

function stateReason(account: FleetAccount): string {
  if (account.state === 'quarantined') return `quarantined: ${account.reason ?? 'no reason recorded'}`;
  return account.state;
}
