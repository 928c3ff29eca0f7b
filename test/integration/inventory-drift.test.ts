/**
 * Drift inventories on the real local stack (Temporal, moto + AWS proxy, OpenBao): `sim seed` six
 * accounts, then make drift of each kind in some of them — the fleet file's version moved for one,
 * one stack deleted, an image release published (groups not moved to it are behind), secrets left old
 * while others are rotated just before the run — and run `fleetops inventory --drift` (CLI), the
 * workflow and a scheduled run. Proves: exactly the drifted accounts and kinds are reported, the
 * others are not; the exit status is 2 with drift and 0 without; bad flags and bad workflow input fail
 * naming the field; no credential, ExternalId or access key id in any history or log line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateLaunchTemplateVersionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, IAMClient, ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleView } from '../../cli/commands/schedule-view';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { SIM_GROUP_NAME } from '../../cli/sim/simulated-fleet';
import { kvRead, kvWrite } from '../../cli/sim/vault-kv';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { DriftKind } from '../../fleet/inventory-drift';
import { loadFleetFile, stringifyFleet } from '../../fleet/load-fleet';
import { secretLiveRecordPath } from '../../fleet/secret-vault-layout';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { accountCredentials, vaultEntry } from '../support/account-access';
import { publishRelease } from '../support/ami-fleet-checks';
import { cleanUp } from '../support/cleanup';
import { fleetopsCli } from '../support/fleetops-cli';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { startTestWorker, testClient, testStack } from '../support/test-stack';

const cfg = testStack();
const TASK_QUEUE = 'inventory-drift-test';
const ID_BASE = 983_000_000_000 + (Date.now() % 100_000) * 10;
const RUN = `drift-${Date.now().toString(36)}`;
const dir = path.join(cfg.stateDir, `inventory-drift-${ID_BASE}`);
const fleetFile = path.join(dir, 'fleet.yaml');
const SCHEDULE = `drift-nightly-${RUN}`;
/** Old secrets were made before `seededAt`, fresh ones after `freshAt`: the gap holds every age limit used. */
const MIN_GAP_MS = 80_000;

let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;
let seededAt = 0;
let freshAt = 0;
/** Secrets made by the test (new access keys): they must appear in no history or log. */
const madeSecrets: string[] = [];
/** Access key ids made by the test: the report names users, never key ids. */
const madeKeyIds: string[] = [];

const fleetops = fleetopsCli(TASK_QUEUE);
/**
 * An age limit (days) between the fresh secrets' age and the old ones', for a run starting now: ages
 * are measured when the run reads the account, so a run may take up to half the gap.
 */
const maxSecretAgeDays = () => (Date.now() - (seededAt + freshAt) / 2) / 86_400_000;

/** The account roles in this test (index in the seeded fleet). */
const CLEAN = 0; // nothing drifted
const VERSION = 1; // the fleet file asks for 1.1.0, the stack runs 1.0.0
const IMAGE = 2; // its group still runs the base image
const SECRET = 3; // its IAM key and ExternalId are old (Secrets Manager rotated)
const MISSING = 4; // two regions; its us-east-1 stack is gone
const SM_OLD = 5; // its Secrets Manager secret is old (IAM key and ExternalId rotated)

const EXPECTED: Record<number, DriftKind[]> = {
  [VERSION]: ['version'],
  [IMAGE]: ['image'],
  [SECRET]: ['secret-age'],
  [MISSING]: ['missing-stack'],
  [SM_OLD]: ['secret-age'],
};

async function clientsOf(account: FleetAccount, region: string) {
  const credentials = await accountCredentials(cfg, account);
  const common = { endpoint: cfg.awsEndpoint, region, credentials };
  return {
    ec2: new EC2Client(common),
    asg: new AutoScalingClient(common),
    cfn: new CloudFormationClient(common),
    sm: new SecretsManagerClient(common),
    iam: new IAMClient({ ...common, region: 'us-east-1' }),
  };
}

/** Moves the account's group in every region to the release's AMI (a new launch template version, set on the group). */
async function moveGroupsTo(account: FleetAccount, amis: Record<string, string>): Promise<void> {
  for (const region of account.regions) {
    const { ec2, asg } = await clientsOf(account, region);
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [SIM_GROUP_NAME] })))
      .AutoScalingGroups![0];
    const lt = group.LaunchTemplate!;
    const made = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: lt.LaunchTemplateId,
        SourceVersion: lt.Version,
        LaunchTemplateData: { ImageId: amis[region] },
      }),
    );
    await asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: SIM_GROUP_NAME,
        LaunchTemplate: {
          LaunchTemplateId: lt.LaunchTemplateId,
          Version: String(made.LaunchTemplateVersion!.VersionNumber),
        },
      }),
    );
  }
}

/** "Rotates" some of the account's secrets straight in AWS / Vault: a new current value or key, made now. */
async function rotate(account: FleetAccount, which: Array<'sm' | 'iam' | 'ext'>): Promise<void> {
  const { sm, iam } = await clientsOf(account, 'eu-west-1');
  if (which.includes('sm'))
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 'data-pipeline/collector-api-key',
        SecretString: randomBytes(20).toString('hex'),
      }),
    );
  if (which.includes('iam')) {
    const old = (await iam.send(new ListAccessKeysCommand({ UserName: 'data-pipeline-loader' }))).AccessKeyMetadata!;
    expect(old.length, `${account.id} seeded key`).toBe(1);
    const made = (await iam.send(new CreateAccessKeyCommand({ UserName: 'data-pipeline-loader' }))).AccessKey!;
    madeSecrets.push(made.SecretAccessKey!);
    madeKeyIds.push(made.AccessKeyId!);
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'data-pipeline-loader',
        AccessKeyId: old[0].AccessKeyId,
        Status: 'Inactive',
      }),
    );
  }
  if (which.includes('ext')) {
    const at = secretLiveRecordPath(account.id, 'external-id');
    const live = await kvRead(cfg, at);
    expect(live, `${account.id} seeded live record`).toBeDefined();
    const written = await kvWrite(
      cfg,
      at,
      { ...live!.data, rotatedAt: new Date().toISOString(), campaignId: `${RUN}-rotation` },
      live!.version,
    );
    expect(written).not.toBe('cas-mismatch');
  }
}

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await runSimSeed({ accounts: 6, idBase: ID_BASE, out: fleetFile, quiet: true });
  seededAt = Date.now();
  accounts = loadFleetFile(fleetFile);
  expect(accounts[MISSING].regions).toEqual(['eu-west-1', 'us-east-1']);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);

  // image: a release newer than the base images; every account but IMAGE's groups moved to it
  const amis = await publishRelease(dir, fleetFile, `${RUN}-image`);
  for (const [i, a] of accounts.entries()) if (i !== IMAGE) await moveGroupsTo(a, amis);
  // version: the fleet file asks VERSION for 1.1.0 (its stack stays at 1.0.0)
  accounts[VERSION].pipeline.version = '1.1.0';
  fs.writeFileSync(fleetFile, stringifyFleet(accounts));
  accounts = loadFleetFile(fleetFile);
  expect(accounts[VERSION].pipeline.version).toBe('1.1.0');
  // missing-stack: MISSING's us-east-1 stack deleted
  const { cfn } = await clientsOf(accounts[MISSING], 'us-east-1');
  await cfn.send(new DeleteStackCommand({ StackName: accounts[MISSING].pipeline.stackName }));

  // secret-age: the seeded secrets get old; then the fresh ones are made
  const wait = seededAt + MIN_GAP_MS - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  freshAt = Date.now();
  for (const [i, a] of accounts.entries()) {
    if (i === IMAGE || i === CLEAN || i === VERSION || i === MISSING) await rotate(a, ['sm', 'iam', 'ext']);
    if (i === SECRET) await rotate(a, ['sm']);
    if (i === SM_OLD) await rotate(a, ['iam', 'ext']);
  }
}, 300_000);

afterAll(() =>
  cleanUp({
    schedule: () =>
      temporal?.client.schedule
        .getHandle(SCHEDULE)
        .delete()
        .catch(() => undefined),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

/** Drifted account id → its kinds, as a report gives them. */
const driftedKinds = (r: FleetInventoryReport) =>
  Object.fromEntries((r.drift?.accounts ?? []).map((a) => [a.accountId, a.kinds]));
const expectedKinds = () => Object.fromEntries(Object.entries(EXPECTED).map(([i, k]) => [accounts[Number(i)].id, k]));

describe('fleetops inventory --drift on the local stack', () => {
  it(
    'reports exactly the drifted accounts and kinds, with expected vs actual; exit status 2',
    { timeout: 120_000 },
    async () => {
      const limit = maxSecretAgeDays();
      const cli = await fleetops(
        'inventory',
        '--fleet',
        fleetFile,
        '--drift',
        '--max-secret-age-days',
        String(limit),
        '--json',
      );
      expect(cli.code, cli.stderr).toBe(2);
      const report = JSON.parse(cli.stdout) as FleetInventoryReport;
      expect(report.succeeded).toBe(6);
      expect(report.failed).toBe(0);
      expect(driftedKinds(report)).toEqual(expectedKinds());
      expect(report.drift).toMatchObject({
        maxSecretAgeDays: limit,
        checkedAccounts: 6,
        driftedAccounts: 5,
        byKind: { version: 1, 'missing-stack': 1, image: 1, 'secret-age': 2 },
      });
      // plain inventory fields as before: the missing stack is counted
      expect(report.byVersion).toMatchObject({ '1.0.0': 6, missing: 1 });
      expect(report.accounts.every((a) => !('drift' in a))).toBe(true);

      const items = (i: number) => report.drift!.accounts.find((a) => a.accountId === accounts[i].id)!.items;
      expect(items(VERSION)).toEqual([
        { kind: 'version', region: 'eu-west-1', subject: 'data-pipeline', expected: '1.1.0', actual: '1.0.0' },
      ]);
      expect(items(MISSING)).toEqual([
        { kind: 'missing-stack', region: 'us-east-1', subject: 'data-pipeline', expected: '1.0.0', actual: 'missing' },
      ]);
      const [image] = items(IMAGE);
      expect(items(IMAGE)).toHaveLength(1);
      expect(image).toMatchObject({ kind: 'image', region: 'eu-west-1', subject: SIM_GROUP_NAME });
      expect(image.expected).toMatch(new RegExp(`^ami-\\w+ \\(release ${RUN}-image\\)$`));
      expect(image.actual).toMatch(/^ami-\w+ \(not a published release\)$/); // the seeded base image
      // SECRET: IAM key and ExternalId old, its Secrets Manager secret fresh; SM_OLD the other way round
      expect(items(SECRET).map((i) => i.subject)).toEqual([
        'loader-access-key (iam-access-key of user data-pipeline-loader)',
        'external-id (external-id)',
      ]);
      expect(items(SECRET).map((i) => i.actual)).toEqual([
        expect.stringMatching(/^active key created \d+ (s|min) ago/),
        expect.stringMatching(/^rotated \d+ (s|min) ago/),
      ]);
      expect(items(SM_OLD)).toEqual([
        expect.objectContaining({
          kind: 'secret-age',
          region: 'eu-west-1',
          subject: 'collector-api-key (secretsmanager data-pipeline/collector-api-key)',
          actual: expect.stringMatching(/^AWSCURRENT created \d+ (s|min) ago/),
        }),
      ]);
      // no access key id in the report: users are named instead
      for (const id of madeKeyIds) expect(cli.stdout).not.toContain(id);
      expect(cli.stdout).not.toMatch(/AKIA[A-Z0-9]{16}/);
    },
  );

  it('prints drifted accounts grouped by kind; a clean selection exits 0', { timeout: 120_000 }, async () => {
    const text = await fleetops(
      'inventory',
      '--fleet',
      fleetFile,
      '--drift',
      '--max-secret-age-days',
      String(maxSecretAgeDays()),
    );
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toContain(
      'Drift: 5 of 6 accounts drifted (version × 1, missing-stack × 1, image × 1, secret-age × 2)',
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `  version \\(1 account\\):\\n    ${accounts[VERSION].id} eu-west-1 data-pipeline: expected 1.1.0, actual 1.0.0`,
      ),
    );
    expect(text.stdout).toContain('  secret-age (2 accounts):');

    const clean = await fleetops(
      'inventory',
      '--fleet',
      fleetFile,
      '--accounts',
      accounts[CLEAN].id,
      '--drift',
      '--max-secret-age-days',
      String(maxSecretAgeDays()),
    );
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('Drift: 0 of 1 accounts drifted');
  });

  it(
    'with the default limit (90 days) nothing of this fleet is old; the plain inventory has no drift section',
    { timeout: 120_000 },
    async () => {
      const report: FleetInventoryReport = await temporal.client.workflow.execute('fleetInventory', {
        taskQueue: TASK_QUEUE,
        workflowId: `${RUN}-default-limit`,
        args: [{ fleetFile, drift: true }],
      });
      expect(report.drift?.maxSecretAgeDays).toBe(90);
      expect(driftedKinds(report)).toEqual({
        [accounts[VERSION].id]: ['version'],
        [accounts[IMAGE].id]: ['image'],
        [accounts[MISSING].id]: ['missing-stack'],
      });
      const plain: FleetInventoryReport = await temporal.client.workflow.execute('fleetInventory', {
        taskQueue: TASK_QUEUE,
        workflowId: `${RUN}-plain`,
        args: [{ fleetFile }],
      });
      expect(plain.succeeded).toBe(6);
      expect(plain).not.toHaveProperty('drift');
    },
  );

  it('a schedule runs it nightly: schedule create NAME … -- inventory --drift', { timeout: 120_000 }, async () => {
    const made = await fleetops(
      'schedule',
      'create',
      SCHEDULE,
      '--cron',
      '0 3 * * *',
      '--',
      'inventory',
      '--fleet',
      fleetFile,
      '--drift',
      '--max-secret-age-days',
      '30',
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(`created schedule ${SCHEDULE}`);
    expect((await fleetops('schedule', 'trigger', SCHEDULE)).code).toBe(0);
    let workflowId: string | undefined;
    for (let i = 0; i < 60 && !workflowId; i++) {
      workflowId = (await temporal.client.schedule.getHandle(SCHEDULE).describe()).info.recentActions.at(-1)?.action
        .workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 500));
    }
    expect(workflowId).toBeDefined();
    const report = (await temporal.client.workflow.getHandle(workflowId!).result()) as FleetInventoryReport;
    expect(report.drift?.maxSecretAgeDays).toBe(30);
    expect(report.drift?.driftedAccounts).toBe(3);
    const described = await fleetops('schedule', 'describe', SCHEDULE, '--json');
    expect(described.code, described.stderr).toBe(0);
    const view = JSON.parse(described.stdout) as ScheduleView;
    expect(view.what).toMatch(/^drift inventory of 6 accounts/);
    expect(view.recentRuns.find((r) => r.workflowId === workflowId)?.counts).toEqual({
      succeeded: 6,
      failed: 0,
      drifted: 3,
    });
  });

  it('bad flags and bad workflow input fail at once, naming the field', { timeout: 120_000 }, async () => {
    for (const [args, message] of [
      [['--drift', '--max-secret-age-days', '0'], '--max-secret-age-days expects a number of days > 0'],
      [
        ['--drift', '--max-secret-age-days', 'ninety'],
        '--max-secret-age-days expects a number of days > 0 and ≤ 36500 (fractions allowed), got "ninety"',
      ],
      [['--max-secret-age-days', '30'], '--max-secret-age-days: only with --drift'],
    ] as const) {
      const r = await fleetops('inventory', '--fleet', fleetFile, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
    }
    const sched = await fleetops(
      'schedule',
      'create',
      `${SCHEDULE}-bad`,
      '--every',
      '24h',
      '--',
      'inventory',
      '--fleet',
      fleetFile,
      '--drift',
      '--max-secret-age-days',
      '-3',
    );
    expect(sched.code).toBe(1);
    expect(sched.stderr).toContain('--max-secret-age-days');

    let badRuns = 0;
    const failure = async (input: Record<string, unknown>) => {
      const err = await temporal.client.workflow
        .execute('fleetInventory', { taskQueue: TASK_QUEUE, workflowId: `${RUN}-bad-${++badRuns}`, args: [input] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidWorkflowInput', nonRetryable: true });
      return (err as WorkflowFailedError).cause?.message ?? '';
    };
    const both = await failure({ fleetFile, drift: 'yes', maxSecretAgeDays: -1 });
    expect(both).toContain('drift');
    expect(both).toContain('expected true or false');
    expect(both).toContain('maxSecretAgeDays');
    expect(both).toContain('expected a number of days > 0');
    const alone = await failure({ fleetFile, maxSecretAgeDays: 30 });
    expect(alone).toContain('only with drift: true');
    expect(alone).toContain('at maxSecretAgeDays');
  });

  it('no credential, ExternalId or access key id in any history or log line', async () => {
    const externalIds: string[] = [];
    for (const a of accounts) externalIds.push(String((await vaultEntry(cfg, a.externalIdRef)).data.externalId));
    const known = [...externalIds, ...madeSecrets, ...madeKeyIds];
    expect(known.length).toBe(6 + 2 * 5);
    const histories = await allWorkflowHistories(temporal.client, `TaskQueue = '${TASK_QUEUE}'`);
    expect(histories.length).toBeGreaterThanOrEqual(5);
    const texts = histories.map((h) => decodedHistoryText(h.json));
    expect(texts.join('\n')).toContain('"kind":"secret-age"'); // the scan reads decoded drift reports
    for (const [i, text] of texts.entries()) expect(secretsIn(text, known), histories[i].workflowId).toEqual([]);
    const logs = worker.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of known) expect(logs.includes(secret)).toBe(false);
    expect(logs).not.toMatch(/AKIA[A-Z0-9]{16}/);
  });
});
