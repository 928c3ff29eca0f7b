import type { AutoScalingGroupEntry, FleetAccount, ImageAccount, Ring, SecretEntry } from '../../fleet/fleet-schema';

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
 * The simulated image account (where `sim image build` makes AMIs and `sim seed` the base images):
 * 999999999999, above every id `sim seed --id-base` can give (ids stop at 999999999998).
 */
export const SIM_IMAGE_ACCOUNT_ID = '999999999999';
/** The Auto Scaling group (and its launch template, same name) every simulated account has per region. */
export const SIM_GROUP_NAME = 'data-pipeline-workers';
/** The tag on every simulated group, for fleet files that select groups by tag. */
export const SIM_GROUP_TAG = { key: 'fleetops:pipeline', value: 'workers' } as const;
/** Name of the base image `sim seed` registers per region in the image account (launch template version 1). */
export const SIM_BASE_IMAGE_NAME = 'data-pipeline-base';

/** The simulated image account as the fleet file names it (`defaults.imageAccount`). */
export function simulatedImageAccount(): ImageAccount {
  return {
    id: SIM_IMAGE_ACCOUNT_ID,
    roleArn: `arn:aws:iam::${SIM_IMAGE_ACCOUNT_ID}:role/FleetOpsExecutionRole`,
    externalIdRef: externalIdRef(SIM_IMAGE_ACCOUNT_ID),
  };
}

/** The groups of every simulated account (written as `defaults.autoScalingGroups`): the workers group, every region. */
export function simulatedAutoScalingGroups(): AutoScalingGroupEntry[] {
  return [{ name: SIM_GROUP_NAME }];
}

/** The secrets of every simulated account: the example of issue 8 (written as `defaults.secrets`). */
export function simulatedSecrets(): Record<string, SecretEntry> {
  return {
    'collector-api-key': {
      kind: 'secretsmanager',
      secretId: 'data-pipeline/collector-api-key',
      region: 'eu-west-1',
      generate: { length: 40, alphabet: 'alphanumeric' },
      graceSeconds: 3600,
    },
    'loader-access-key': {
      kind: 'iam-access-key',
      userName: 'data-pipeline-loader',
      deliverTo: 'data-pipeline/loader-credentials',
      graceSeconds: 86400,
      deleteAfterSeconds: 604800,
    },
    'external-id': { kind: 'external-id' },
  };
}

/**
 * A deterministic simulated fleet of `n` accounts: ids idBase + i (default 200000000000 + i), every
 * account in eu-west-1 and every fifth also in us-east-1, all at pipeline version 1.0.0, each with
 * the simulatedSecrets() (unless `secrets: false`) and, for AMI rollouts (unless `images: false`), the
 * simulated image account and the group `data-pipeline-workers` in every region.
 */
export function simulatedFleet(
  n: number,
  opts: { stackName?: string; version?: string; idBase?: number; secrets?: boolean; images?: boolean } = {},
): FleetAccount[] {
  const imageAccount = opts.images === false ? undefined : simulatedImageAccount();
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
      ...(opts.secrets === false ? {} : { secrets: simulatedSecrets() }),
      ...(imageAccount ? { autoScalingGroups: simulatedAutoScalingGroups(), imageAccount } : {}),
      state: 'active',
    } satisfies FleetAccount;
  });
}
