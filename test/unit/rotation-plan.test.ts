import { describe, expect, it } from 'vitest';
import { rotationPlanLine } from '../../workflows/rotation/rotation-plan';

const found = {
  secretId: 'data-pipeline/collector-api-key',
  region: 'eu-west-1',
  versions: { 'v-old': ['AWSPREVIOUS'], 'v-cur': ['AWSCURRENT'] },
  live: { vaultVersion: 3, rotatedAt: '2026-10-01T00:00:00.000Z', ageDays: 56.2, campaignId: 'rot-oct' },
};

describe('rotation plan mode: one compact line per account', () => {
  it('due: the secret, live Vault version and age, AWS versions and stages, what would run', () => {
    expect(rotationPlanLine('collector-api-key', { ...found, status: 'due' })).toEqual({
      region: 'eu-west-1',
      outcome: 'planned',
      reason:
        'collector-api-key (data-pipeline/collector-api-key): live Vault v3, 56.2 d old (rotated 2026-10-01T00:00:00.000Z by rot-oct); ' +
        'AWS v-old[AWSPREVIOUS] v-cur[AWSCURRENT]; due: would run create (Vault version + AWSPENDING), test, finish (AWSCURRENT), health gate',
    });
  });

  it('not due, left-behind AWSPENDING and skipped accounts say so', () => {
    const notDue = rotationPlanLine('collector-api-key', {
      ...found,
      status: 'not-due',
      reason: 'not due: rotated 56.2 d ago',
    });
    expect(notDue.reason).toMatch(/; would skip: not due: rotated 56.2 d ago$/);
    const left = rotationPlanLine('collector-api-key', {
      ...found,
      status: 'pending-left-behind',
      reason: 'AWSPENDING on x',
    });
    expect(left.reason).toMatch(/; would quarantine: AWSPENDING on x$/);
    expect(rotationPlanLine('k', { status: 'skipped', reason: 'kind iam-access-key: kind not supported yet' })).toEqual(
      {
        region: '-',
        outcome: 'skipped',
        reason: 'kind iam-access-key: kind not supported yet',
      },
    );
    expect(rotationPlanLine('k', { ...found, live: undefined, versions: {}, status: 'due' }).reason).toContain(
      'no live record; AWS no versions',
    );
  });
});
