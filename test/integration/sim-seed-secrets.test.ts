import { createHash } from 'node:crypto';
import path from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { secretsManager } from '../../cli/sim/secrets-manager-calls';
import { SIM_SEED_CAMPAIGN } from '../../cli/sim/seed-secrets';
import { simulatedSecrets } from '../../cli/sim/simulated-fleet';
import { kvRead, kvWrite } from '../../cli/sim/vault-kv';
import { resolveAccountSecrets, secretLiveRecordPath, secretVaultPath, type FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import { accountCredentials, vaultEntry } from '../support/account-access';
import { testStack } from '../support/test-stack';

const cfg = testStack();
const ID_BASE = 960_000_000_000;
const sha256 = (text: unknown) => createHash('sha256').update(String(text), 'utf8').digest('hex');

let fleetFile: string;
let accounts: FleetAccount[];
/** Everything the seeder wrote to stdout/stderr, scanned for values. */
let printed = '';

async function seedCapturingOutput(): Promise<void> {
  const writes = [process.stdout.write, process.stderr.write] as const;
  const capture = (chunk: unknown) => {
    printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    ({ file: fleetFile } = await runSimSeed({
      accounts: 3,
      idBase: ID_BASE,
      out: path.join(cfg.stateDir, 'sim-seed-secrets-fleet.yaml'),
    }));
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
  }
}

type Snapshot = Record<string, { vaultVersion: number; awsVersionId?: string; accessKeyIds?: string[] }>;
const snapshots: Snapshot[] = [];
/** Secret values seen (in memory only), to scan the seeder's output for. */
const values: string[] = [];

/** Checks every account's secrets in AWS against Vault; returns what it saw, for the idempotency check. */
async function checkAccounts(): Promise<Snapshot> {
  const seen: Snapshot = {};
  for (const account of accounts) {
    const credentials = await accountCredentials(cfg, account, 'seed-test');
    const sm = secretsManager(cfg.awsEndpoint, 'eu-west-1', credentials);

    // collector-api-key: Vault value == AWSCURRENT, live record names both versions.
    const collector = await vaultEntry(cfg, secretVaultPath(account.id, 'collector-api-key'));
    const collectorLive = await vaultEntry(cfg, secretLiveRecordPath(account.id, 'collector-api-key'));
    const current = await sm('GetSecretValue', {
      SecretId: 'data-pipeline/collector-api-key',
      VersionStage: 'AWSCURRENT',
    });
    // Never an assertion that would print a value on failure: test, then compare booleans or hashes.
    expect(/^[A-Za-z0-9]{40}$/.test(String(collector.data.value)), 'collector value is 40 alphanumerics').toBe(true);
    expect(sha256(current.SecretString), account.id).toBe(sha256(collector.data.value));
    expect(collectorLive.data).toMatchObject({
      kind: 'secretsmanager',
      vaultVersion: collector.version,
      awsVersionId: current.VersionId,
      campaignId: SIM_SEED_CAMPAIGN,
    });
    values.push(String(collector.data.value));

    // loader-access-key: one active key, the same pair in Vault and in the deliverTo secret, and it works.
    const loader = await vaultEntry(cfg, secretVaultPath(account.id, 'loader-access-key'));
    const loaderLive = await vaultEntry(cfg, secretLiveRecordPath(account.id, 'loader-access-key'));
    const iam = new IAMClient({ endpoint: cfg.awsEndpoint, region: 'us-east-1', credentials });
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'data-pipeline-loader' }))).AccessKeyMetadata!;
    expect(keys.map((k) => [k.AccessKeyId, k.Status])).toEqual([[loader.data.accessKeyId, 'Active']]);
    const delivered = await sm('GetSecretValue', {
      SecretId: 'data-pipeline/loader-credentials',
      VersionStage: 'AWSCURRENT',
    });
    const pair = JSON.parse(String(delivered.SecretString)) as Record<string, unknown>;
    expect(pair.accessKeyId).toBe(loader.data.accessKeyId);
    expect(sha256(pair.secretAccessKey)).toBe(sha256(loader.data.secretAccessKey));
    expect(loaderLive.data).toMatchObject({
      kind: 'iam-access-key',
      vaultVersion: loader.version,
      accessKeyId: loader.data.accessKeyId,
      awsVersionId: delivered.VersionId,
    });
    const asLoader = new STSClient({
      endpoint: cfg.awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: String(pair.accessKeyId), secretAccessKey: String(pair.secretAccessKey) },
    });
    const me = await asLoader.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(account.id);
    expect(me.Arn).toBe(`arn:aws:iam::${account.id}:user/data-pipeline-loader`);
    values.push(String(loader.data.secretAccessKey));

    // external-id: the value stays at externalIdRef (no copy in the new layout); only the live record is new.
    const externalId = await vaultEntry(cfg, account.externalIdRef);
    expect(await kvRead(cfg, secretVaultPath(account.id, 'external-id'))).toBeUndefined();
    expect((await vaultEntry(cfg, secretLiveRecordPath(account.id, 'external-id'))).data).toMatchObject({
      kind: 'external-id',
      vaultVersion: externalId.version,
    });
    values.push(String(externalId.data.externalId));

    seen[account.id] = { vaultVersion: collector.version, awsVersionId: String(current.VersionId) };
    seen[`${account.id}/loader`] = {
      vaultVersion: loader.version,
      awsVersionId: String(delivered.VersionId),
      accessKeyIds: keys.map((k) => k.AccessKeyId!),
    };
  }
  return seen;
}

beforeAll(async () => {
  await seedCapturingOutput();
  accounts = loadFleetFile(fleetFile);
});

afterAll(() => {
  values.length = 0;
});

describe('sim seed: secrets', () => {
  it('writes the three example secrets into the fleet file as defaults', () => {
    expect(accounts).toHaveLength(3);
    for (const account of accounts) {
      expect(account.secrets).toEqual(simulatedSecrets());
      expect(Object.keys(resolveAccountSecrets(account))).toEqual([
        'collector-api-key',
        'loader-access-key',
        'external-id',
      ]);
    }
  });

  it('creates each account’s secrets in AWS, the IAM user with one active key, and the same values in Vault', async () => {
    snapshots.push(await checkAccounts());
  });

  it('prints no secret value', () => {
    expect(printed).toContain('seeded 3 accounts');
    expect(values.length).toBe(9);
    for (const value of values) expect(printed.includes(value)).toBe(false);
  });

  it('seeding again changes nothing: same Vault versions, same AWS versions, still one key', async () => {
    await seedCapturingOutput();
    snapshots.push(await checkAccounts());
    expect(snapshots[1]).toEqual(snapshots[0]);
    for (const value of values) expect(printed.includes(value)).toBe(false);
  });

  it('seeding again keeps the live version when Vault holds a newer, rejected one (a rolled-back rotation)', async () => {
    const account = accounts[0];
    const path = secretVaultPath(account.id, 'collector-api-key');
    const live = await vaultEntry(cfg, path);
    const rejected = await kvWrite(cfg, path, { value: 'R'.repeat(40) }, live.version);
    expect(rejected).not.toBe('cas-mismatch');
    await seedCapturingOutput();
    const sm = secretsManager(cfg.awsEndpoint, 'eu-west-1', await accountCredentials(cfg, account, 'seed-test'));
    const current = await sm('GetSecretValue', {
      SecretId: 'data-pipeline/collector-api-key',
      VersionStage: 'AWSCURRENT',
    });
    expect(sha256(current.SecretString)).toBe(sha256(live.data.value));
    expect((await vaultEntry(cfg, secretLiveRecordPath(account.id, 'collector-api-key'))).data.vaultVersion).toBe(
      live.version,
    );
  });
});
