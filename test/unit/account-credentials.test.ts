import { describe, expect, it } from 'vitest';
import type { STSClient } from '@aws-sdk/client-sts';
import { AccountCredentials, roleSessionName } from '../../activities/aws/account-credentials';
import { RateLimits } from '../../activities/aws/rate-limiter';
import { ExternalIdCache } from '../../activities/vault/external-id-cache';
import { RateBudgetsSchema } from '../../fleet/rate-budgets';
import type { FleetAccount } from '../../fleet/fleet-schema';

// Unit tests of the edge cases (concurrency, expiry) with a stand-in STS; the real path runs in test/integration.
const account: FleetAccount = {
  id: '111111111111',
  customer: 'c',
  ring: 'canary',
  regions: ['eu-west-1'],
  roleArn: 'arn:aws:iam::111111111111:role/R',
  externalIdRef: 'secret/data/x',
  pipeline: { stackName: 's', version: '1.0.0' },
  tags: {},
  state: 'active',
};

function setup(opts: { fail?: Error } = {}) {
  let now = 1_000_000;
  const requests: Array<Record<string, unknown>> = [];
  const sts = {
    send: async (cmd: { input: Record<string, unknown> }) => {
      requests.push(cmd.input);
      await new Promise((r) => setTimeout(r, 20));
      if (opts.fail) throw opts.fail;
      return {
        Credentials: {
          AccessKeyId: `AK${requests.length}`,
          SecretAccessKey: 'S',
          SessionToken: 'T',
          Expiration: new Date(now + 3600_000),
        },
      };
    },
  } as unknown as STSClient;
  let vaultReads = 0;
  const externalIds = new ExternalIdCache({ readKv: async () => (vaultReads++, { externalId: 'ext-1' }) });
  const creds = new AccountCredentials({
    sts,
    stsRegion: 'us-east-1',
    externalIds,
    limits: new RateLimits(RateBudgetsSchema.parse({})),
    now: () => now,
  });
  return { creds, requests, advance: (ms: number) => void (now += ms), vaultReads: () => vaultReads };
}

describe('AccountCredentials', () => {
  it('concurrent callers for one account share a single AssumeRole, with the ExternalId and a traceable session name', async () => {
    const s = setup();
    const results = await Promise.all(Array.from({ length: 10 }, () => s.creds.get(account, 'run-1')));
    expect(s.requests).toHaveLength(1);
    expect(new Set(results.map((r) => r.accessKeyId)).size).toBe(1);
    expect(s.requests[0]).toMatchObject({
      RoleArn: account.roleArn,
      ExternalId: 'ext-1',
      RoleSessionName: 'fleetops-run-1-111111111111',
    });
    expect(s.vaultReads()).toBe(1);
  });

  it('serves from cache until shortly before expiry, then refreshes', async () => {
    const s = setup();
    await s.creds.get(account, 'r');
    s.advance(50 * 60_000);
    expect((await s.creds.get(account, 'r')).accessKeyId).toBe('AK1');
    s.advance(6 * 60_000); // within 5 minutes of expiry
    expect((await s.creds.get(account, 'r')).accessKeyId).toBe('AK2');
  });

  it('access denied becomes a non-retryable AccountAccessDenied and is not cached', async () => {
    const s = setup({
      fail: Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    });
    await expect(s.creds.get(account, 'r')).rejects.toMatchObject({ name: 'AccountAccessDenied', retryable: false });
    expect(s.requests).toHaveLength(1); // not retried inside the activity either
    await expect(s.creds.get(account, 'r')).rejects.toMatchObject({ name: 'AccountAccessDenied' });
    expect(s.requests).toHaveLength(2);
  });

  it('a denied AssumeRole re-reads the ExternalId from Vault and tries once more when it changed (a rotation went live)', async () => {
    const sent: string[] = [];
    const sts = {
      send: async (cmd: { input: { ExternalId: string } }) => {
        sent.push(cmd.input.ExternalId);
        if (cmd.input.ExternalId !== 'ext-new') {
          throw Object.assign(new Error('not authorized'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
          });
        }
        return { Credentials: { AccessKeyId: 'AK', SecretAccessKey: 'S', SessionToken: 'T', Expiration: new Date() } };
      },
    } as unknown as STSClient;
    const inVault = ['ext-old', 'ext-new'];
    let reads = 0;
    const creds = new AccountCredentials({
      sts,
      stsRegion: 'us-east-1',
      externalIds: new ExternalIdCache({ readKv: async () => ({ externalId: inVault[Math.min(reads++, 1)] }) }),
      limits: new RateLimits(RateBudgetsSchema.parse({})),
    });
    expect((await creds.get(account, 'r')).accessKeyId).toBe('AK');
    expect(sent).toEqual(['ext-old', 'ext-new']);
    expect(reads).toBe(2);
    // the ExternalId rotation's test: a given id, nothing cached
    expect(await creds.accepts(account, 'r', 'ext-old')).toBe(false);
    expect(await creds.accepts(account, 'r', 'ext-new')).toBe(true);
  });
});

describe('roleSessionName', () => {
  it('is valid for STS: ≤ 64 chars of [\\w+=,.@-], ending in the account id', () => {
    const name = roleSessionName(
      '0199a3f2-7c1e-7d55-9a0b-1b2c3d4e5f60/with spaces and a long tail that goes on',
      '123456789012',
    );
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name.endsWith('-123456789012')).toBe(true);
    expect(name.startsWith('fleetops-')).toBe(true);
  });
});
