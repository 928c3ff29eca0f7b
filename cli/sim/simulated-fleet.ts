import type { FleetAccount, Ring } from '../../fleet/fleet-schema';

/** Where a simulated account's ExternalId lives in Vault (KV v2 at `secret/`). */
export const externalIdRef = (accountId: string) => `secret/data/fleetops/external-ids/${accountId}`;

/** Ring of the i-th of n simulated accounts: 2% canary (at least 1), 10% early, 75% general, the rest late. */
export function simulatedRing(i: number, n: number): Ring {
  const canary = Math.max(1, Math.round(n * 0.02));
  const early = Math.max(canary + 1, Math.round(n * 0.12));
  const general = Math.max(early + 1, Math.round(n * 0.87));
  if (i < canary) return 'canary';
  if (i < early) return 'early';
  if (i < general) return 'general';
  return 'late';
}

export const DEFAULT_ID_BASE = 200_000_000_000;

/**
 * A deterministic simulated fleet of `n` accounts: ids idBase + i (default 200000000000 + i), every
 * account in eu-west-1 and every fifth also in us-east-1, all at pipeline version 1.0.0.
 */
export function simulatedFleet(
  n: number,
  opts: { stackName?: string; version?: string; idBase?: number } = {},
): FleetAccount[] {
  return Array.from({ length: n }, (_, i) => {
    const id = String((opts.idBase ?? DEFAULT_ID_BASE) + i);
    return {
      id,
      customer: `customer-${String(i + 1).padStart(4, '0')}`,
      ring: simulatedRing(i, n),
      regions: i % 5 === 4 ? ['eu-west-1', 'us-east-1'] : ['eu-west-1'],
      roleArn: `arn:aws:iam::${id}:role/FleetOpsExecutionRole`,
      externalIdRef: externalIdRef(id),
      pipeline: { stackName: opts.stackName ?? 'data-pipeline', version: opts.version ?? '1.0.0' },
      tags: { tier: i % 10 === 0 ? 'enterprise' : 'standard' },
      state: 'active',
    } satisfies FleetAccount;
  });
}
