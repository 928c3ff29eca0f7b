import { describe, expect, it } from 'vitest';
import {
  ageOf,
  formatSecretStatus,
  secretStatusJson,
  secretStatusProblems,
  type SecretStatus,
  type SecretStatusReport,
} from '../../cli/commands/secret-status-format';

const collector: SecretStatus = {
  name: 'collector-api-key',
  kind: 'secretsmanager',
  secretId: 'data-pipeline/collector-api-key',
  region: 'eu-west-1',
  valueRef: 'secret/data/fleetops/accounts/123456789012/collector-api-key',
  valueVersion: 2,
  live: {
    vaultVersion: 2,
    rotatedAt: '2026-11-20T08:00:00.000Z',
    campaignId: 'rot-nov',
    awsVersionId: 'v-cur',
    recordVersion: 2,
  },
  awsVersions: [
    { versionId: 'v-cur', stages: ['AWSCURRENT'] },
    { versionId: 'v-old', stages: ['AWSPREVIOUS'] },
  ],
};

const loader: SecretStatus = {
  name: 'loader-access-key',
  kind: 'iam-access-key',
  secretId: 'data-pipeline/loader-credentials',
  region: 'eu-west-1',
  userName: 'data-pipeline-loader',
  valueRef: 'secret/data/fleetops/accounts/123456789012/loader-access-key',
  valueVersion: 1,
  live: {
    vaultVersion: 1,
    rotatedAt: '2026-11-26T09:58:00.000Z',
    campaignId: 'sim-seed',
    awsVersionId: 'd-1',
    accessKeyId: 'AKIAAAAAAAAAAAAAAAA1',
    recordVersion: 1,
  },
  awsVersions: [{ versionId: 'd-1', stages: ['AWSCURRENT'] }],
  accessKeys: [{ accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', status: 'Active' }],
};

const externalId: SecretStatus = {
  name: 'external-id',
  kind: 'external-id',
  valueRef: 'secret/data/fleetops/external-ids/123456789012',
  valueVersion: 1,
  live: { vaultVersion: 1, rotatedAt: '2026-11-26T09:58:00.000Z', campaignId: 'sim-seed', recordVersion: 1 },
  trust: { role: 'fleetops-execution', acceptedIds: 1, acceptsCurrent: true, pendingInVault: false },
};

const report = (secrets: SecretStatus[]): SecretStatusReport => ({
  accountId: '123456789012',
  fleetFile: '.fleetops/fleet.yaml',
  readAt: '2026-11-26T10:00:00.000Z',
  secrets,
});

describe('secret status formatter (pure)', () => {
  it('prints each secret: live record with age and campaign, Vault value version, AWS versions and stages, keys', () => {
    const text = formatSecretStatus(report([collector, loader, externalId]));
    expect(text).toContain('account 123456789012  (fleet file .fleetops/fleet.yaml)');
    expect(text).toContain('collector-api-key  [secretsmanager]  data-pipeline/collector-api-key in eu-west-1');
    expect(text).toContain('live:     Vault v2, AWS version v-cur');
    expect(text).toContain('rotated 2026-11-20T08:00:00.000Z (6d 2h ago) by rot-nov');
    expect(text).toContain('vault:    value v2 at secret/data/fleetops/accounts/123456789012/collector-api-key');
    expect(text).toMatch(/aws: {6}v-cur \[AWSCURRENT\]\n {12}v-old \[AWSPREVIOUS\]/);
    expect(text).toContain('iam keys: AKIAAAAAAAAAAAAAAAA1 Active');
    expect(text).toContain('external-id  [external-id]  trust policy ExternalId');
    expect(text).not.toContain('⚠');
    expect(text.match(/✔ consistent/g)).toHaveLength(3);
  });

  it('flags AWSCURRENT ≠ live record, AWSPENDING left behind (with the runbook), more than one active key', () => {
    const drifted: SecretStatus = {
      ...collector,
      awsVersions: [
        { versionId: 'v-other', stages: ['AWSCURRENT'] },
        { versionId: 'v-cur', stages: ['AWSPREVIOUS'] },
        { versionId: 'v-pending', stages: ['AWSPENDING'] },
      ],
    };
    expect(secretStatusProblems(drifted)).toEqual([
      'AWSCURRENT is v-other but the live record names v-cur (Vault and AWS disagree)',
      'AWSPENDING left behind on version v-pending (not AWSCURRENT): see docs/runbooks/secret-awspending-left-behind.md',
    ]);
    const twoKeys: SecretStatus = {
      ...loader,
      accessKeys: [
        { accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', status: 'Active' },
        { accessKeyId: 'AKIAAAAAAAAAAAAAAAA2', status: 'Active' },
      ],
    };
    expect(secretStatusProblems(twoKeys)).toEqual([
      "2 active access keys for data-pipeline-loader (AKIAAAAAAAAAAAAAAAA1, AKIAAAAAAAAAAAAAAAA2): at most one is expected outside a rotation's grace",
    ]);
    const text = formatSecretStatus(report([drifted, twoKeys]));
    expect(text.split('\n').filter((l) => l.startsWith('  ⚠ '))).toHaveLength(3);
    expect(text).not.toContain('✔ consistent');
  });

  it("external-id: flags a trust policy that does not accept Vault's id and a pending id, with the runbook", () => {
    const locked: SecretStatus = {
      ...externalId,
      trust: {
        role: 'fleetops-execution',
        acceptedIds: 2,
        acceptsCurrent: false,
        pendingInVault: true,
        acceptsPending: true,
      },
    };
    expect(secretStatusProblems(locked)).toEqual([
      "the trust policy of fleetops-execution does not accept Vault's current ExternalId: see docs/runbooks/external-id-lockout.md",
      'Vault holds a pending ExternalId of an unfinished rotation: see docs/runbooks/external-id-lockout.md',
    ]);
    expect(formatSecretStatus(report([locked]))).toContain(
      "trust:    fleetops-execution accepts 2 ExternalId(s), NOT Vault's current one; a pending id in Vault, accepted",
    );
    expect(formatSecretStatus(report([externalId]))).toContain(
      "trust:    fleetops-execution accepts 1 ExternalId(s), Vault's current one among them",
    );
  });

  it('AWSPENDING on the current version (a rotation mid-finish) is not flagged; a newer Vault value is noted', () => {
    const midway: SecretStatus = {
      ...collector,
      valueVersion: 3,
      awsVersions: [{ versionId: 'v-cur', stages: ['AWSCURRENT', 'AWSPENDING'] }],
    };
    expect(secretStatusProblems(midway)).toEqual([]);
    expect(formatSecretStatus(report([midway]))).toContain(
      'value v3 at secret/data/fleetops/accounts/123456789012/collector-api-key  (newer than live v2: a rotation in progress or rolled back)',
    );
  });

  it('missing live record, AWS not readable, no current version', () => {
    const none: SecretStatus = { ...collector, live: null, awsVersions: [], valueVersion: null };
    expect(secretStatusProblems(none)).toEqual([
      'no live record in Vault (not seeded or rotated by fleetops)',
      'no version of data-pipeline/collector-api-key is AWSCURRENT',
    ]);
    const unreadable: SecretStatus = { ...collector, awsVersions: undefined, awsError: 'AccountAccessDenied: denied' };
    const text = formatSecretStatus(report([unreadable]));
    expect(text).toContain('aws:      not readable: AccountAccessDenied: denied');
    expect(text).not.toContain('✔ consistent');
  });

  it('JSON: the report with age in seconds and the problems per secret', () => {
    const json = secretStatusJson(report([collector, { ...loader, accessKeys: [] }]));
    expect(json.secrets[0]).toMatchObject({ name: 'collector-api-key', ageSeconds: 525600, problems: [] });
    expect(json.secrets[1].problems).toEqual([
      "the live record's key AKIAAAAAAAAAAAAAAAA1 is not an active key of data-pipeline-loader",
    ]);
  });

  it('ages', () => {
    const now = new Date('2026-11-26T10:00:00.000Z');
    expect(ageOf('2026-11-26T09:59:20.000Z', now)).toBe('40s');
    expect(ageOf('2026-11-26T09:55:00.000Z', now)).toBe('5m');
    expect(ageOf('2026-11-26T07:55:00.000Z', now)).toBe('2h 5m');
  });
});
