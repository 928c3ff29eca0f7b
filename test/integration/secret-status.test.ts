import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { secretStatusJson } from '../../cli/commands/secret-status-format';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { kvRead } from '../../cli/sim/vault-kv';
import { secretLiveRecordPath, secretVaultPath, type FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { accountCredentials } from '../support/account-access';
import { cleanUp } from '../support/cleanup';
import { startTestWorker, testClient, testStack } from '../support/test-stack';

// `fleetops secret status` as an operator runs it, against the real local stack. No assertion here
// could print a value: values are only ever checked with includes() → boolean.
const cfg = testStack();
const ROOT = path.resolve(__dirname, '../..');
const TASK_QUEUE = 'secret-status-test';
const ID_BASE = 985_000_000_000;
const REGION = 'eu-west-1';
const RUN = `status-${Date.now()}`;

type StatusJson = ReturnType<typeof secretStatusJson>;
let fleetFile: string;
let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
let temporal: Awaited<ReturnType<typeof testClient>> | undefined;
/** Every value the account's secrets hold (in memory only), to scan the command's output for. */
const values: string[] = [];

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 2,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, 'secret-status-fleet.yaml'),
    quiet: true,
  }));
  accounts = loadFleetFile(fleetFile);
}, 120_000);

afterAll(() =>
  cleanUp({
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
    values: () => void (values.length = 0),
  }),
);

/** Runs `fleetops …` as an operator would; never throws. */
async function fleetops(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

async function statusJson(accountId: string, ...rest: string[]): Promise<StatusJson> {
  const r = await fleetops(['secret', 'status', accountId, ...rest, '--fleet', fleetFile, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** What AWS holds, read directly: version id → sorted stages per secret, and the loader's keys. */
async function awsState(account: FleetAccount) {
  const credentials = await accountCredentials(cfg, account, 'status-test');
  const sm = new SecretsManagerClient({ endpoint: cfg.awsEndpoint, region: REGION, credentials });
  const stagesOf = async (secretId: string) => {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
    return Object.fromEntries(Object.entries(d.VersionIdsToStages ?? {}).map(([id, s]) => [id, [...s].sort()]));
  };
  const iam = new IAMClient({ endpoint: cfg.awsEndpoint, region: 'us-east-1', credentials });
  const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'data-pipeline-loader' }))).AccessKeyMetadata!;
  return {
    collector: await stagesOf('data-pipeline/collector-api-key'),
    loader: await stagesOf('data-pipeline/loader-credentials'),
    keys: keys.map((k) => ({ accessKeyId: k.AccessKeyId!, status: k.Status! })),
    sm,
  };
}

const versionsMap = (s: StatusJson['secrets'][number]) =>
  Object.fromEntries((s.awsVersions ?? []).map((v) => [v.versionId, v.stages]));
const byName = (report: StatusJson, name: string) => report.secrets.find((s) => s.name === name)!;

async function rememberValues(account: FleetAccount): Promise<void> {
  values.push(String((await kvRead(cfg, secretVaultPath(account.id, 'collector-api-key')))!.data.value));
  values.push(String((await kvRead(cfg, secretVaultPath(account.id, 'loader-access-key')))!.data.secretAccessKey));
  values.push(String((await kvRead(cfg, account.externalIdRef))!.data.externalId));
}

const printsNoValue = (text: string) => values.every((v) => v.length >= 8 && !text.includes(v));

describe('fleetops secret status', () => {
  it('shows what Vault and AWS hold (text and --json), consistent after seeding, and never a value', async () => {
    const [a] = accounts;
    await rememberValues(a);
    const aws = await awsState(a);

    const text = await fleetops(['secret', 'status', a.id, '--fleet', fleetFile]);
    expect(text.code, text.stderr).toBe(0);
    const current = Object.keys(aws.collector).find((id) => aws.collector[id].includes('AWSCURRENT'))!;
    expect(text.stdout).toContain(`account ${a.id}`);
    expect(text.stdout).toContain(`${current} [AWSCURRENT]`);
    expect(text.stdout).toContain(`${aws.keys[0].accessKeyId} Active`);
    expect(text.stdout).toContain('by sim-seed');
    expect(text.stdout.match(/✔ consistent/g)).toHaveLength(3);
    expect(text.stdout).not.toContain('⚠');
    expect(printsNoValue(text.stdout + text.stderr), 'no secret value in the output').toBe(true);

    const json = await statusJson(a.id);
    expect(json.secrets.map((s) => s.name)).toEqual(['collector-api-key', 'loader-access-key', 'external-id']);
    const collector = byName(json, 'collector-api-key');
    expect(versionsMap(collector)).toEqual(aws.collector);
    const collectorValue = (await kvRead(cfg, secretVaultPath(a.id, 'collector-api-key')))!;
    const collectorLive = (await kvRead(cfg, secretLiveRecordPath(a.id, 'collector-api-key')))!;
    expect(collector.valueVersion).toBe(collectorValue.version);
    expect(collector.live).toMatchObject({
      vaultVersion: collectorLive.data.vaultVersion,
      awsVersionId: collectorLive.data.awsVersionId,
      campaignId: collectorLive.data.campaignId,
      rotatedAt: collectorLive.data.rotatedAt,
    });
    const loader = byName(json, 'loader-access-key');
    expect(versionsMap(loader)).toEqual(aws.loader);
    expect(loader.accessKeys?.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status }))).toEqual(aws.keys);
    expect(loader.live?.accessKeyId).toBe(aws.keys[0].accessKeyId);
    const external = byName(json, 'external-id');
    expect(external.valueVersion).toBe((await kvRead(cfg, a.externalIdRef))!.version);
    expect(external.awsVersions).toBeUndefined();
    expect(external.trust).toEqual({
      role: a.roleArn.split('/').pop(),
      acceptedIds: 1,
      acceptsCurrent: true,
      pendingInVault: false,
    });
    for (const s of json.secrets) expect(s.problems).toEqual([]);
    const raw = await fleetops(['secret', 'status', a.id, '--fleet', fleetFile, '--json']);
    expect(printsNoValue(raw.stdout + raw.stderr), 'no secret value in the JSON').toBe(true);
  });

  it('after a rotation campaign, the status shows the new version live', { timeout: 180_000 }, async () => {
    const [a] = accounts;
    const before = byName(await statusJson(a.id, 'collector-api-key'), 'collector-api-key');
    worker = await startTestWorker(TASK_QUEUE);
    temporal = await testClient(cfg);
    const campaignId = `${RUN}-rotate`;
    const report = (await temporal.client.workflow.execute('fleetCampaign', {
      taskQueue: TASK_QUEUE,
      workflowId: campaignId,
      args: [
        {
          operation: 'rotate-secret',
          fleetFile,
          select: { ids: [a.id] },
          rotation: { secret: 'collector-api-key', healthBakeSeconds: 0 },
        } as unknown as FleetCampaignInput,
      ],
    })) as CampaignReport;
    expect(report.counts).toEqual({ rotated: 1 });
    await rememberValues(a); // the new value too

    const after = await statusJson(a.id, 'collector-api-key');
    expect(after.secrets).toHaveLength(1);
    const s = after.secrets[0];
    const token = rotationToken(campaignId, a.id, 'collector-api-key', 1);
    expect(s.live).toMatchObject({ vaultVersion: before.valueVersion! + 1, awsVersionId: token, campaignId });
    expect(s.valueVersion).toBe(before.valueVersion! + 1);
    expect(versionsMap(s)).toEqual((await awsState(a)).collector);
    expect(versionsMap(s)[token]).toEqual(['AWSCURRENT']);
    expect(versionsMap(s)[before.live!.awsVersionId!]).toEqual(['AWSPREVIOUS']);
    expect(s.problems).toEqual([]);
    const text = await fleetops(['secret', 'status', a.id, 'collector-api-key', '--fleet', fleetFile]);
    expect(text.stdout).toContain(`live:     Vault v${before.valueVersion! + 1}, AWS version ${token}`);
    expect(text.stdout).toContain(`by ${campaignId}`);
    expect(printsNoValue(text.stdout + text.stderr), 'no secret value after rotation').toBe(true);
  });

  it('flags an AWSPENDING left behind, pointing at its runbook', async () => {
    const b = accounts[1];
    const { sm } = await awsState(b);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 'data-pipeline/collector-api-key',
        SecretString: 'left-behind-by-someone-else-0000000000',
        ClientRequestToken: '00000000-0000-4000-8000-00000000beef',
        VersionStages: ['AWSPENDING'],
      }),
    );
    const text = await fleetops(['secret', 'status', b.id, 'collector-api-key', '--fleet', fleetFile]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      '⚠ AWSPENDING left behind on version 00000000-0000-4000-8000-00000000beef (not AWSCURRENT): see docs/runbooks/secret-awspending-left-behind.md',
    );
    expect(text.stdout).not.toContain('left-behind-by-someone-else');
  });

  it('bad inputs: unknown account, unknown secret, Vault unreachable', async () => {
    const unknown = await fleetops(['secret', 'status', '111111111111', '--fleet', fleetFile]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`account 111111111111 is not in the fleet file ${fleetFile}`);

    const noSecret = await fleetops(['secret', 'status', accounts[0].id, 'nope', '--fleet', fleetFile]);
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain(
      `account ${accounts[0].id} has no secret "nope" in ${fleetFile}; its secrets: collector-api-key, loader-access-key, external-id`,
    );

    const noVault = await fleetops(['secret', 'status', accounts[0].id, '--fleet', fleetFile], {
      VAULT_ADDR: 'http://127.0.0.1:9',
    });
    expect(noVault.code).toBe(1);
    expect(noVault.stderr).toContain('Vault is unreachable or sealed at VAULT_ADDR=http://127.0.0.1:9');
    expect(noVault.stdout).toBe('');
  });
});
