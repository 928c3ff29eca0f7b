import { createHash } from 'node:crypto';
import path from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { kvRead } from '../../cli/sim/vault-kv';
import { secretLiveRecordPath, secretVaultPath, type FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { CampaignStatus } from '../../workflows/campaign/campaign-messages';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { accountCredentials, setHealthAlarm, vaultValueVersions } from '../support/account-access';
import { alarmDuringBake } from '../support/alarm-during-bake';
import { cleanUp } from '../support/cleanup';
import { fleetopsCli } from '../support/fleetops-cli';
import { allWorkflowHistories, decodedHistoryText, secretsIn } from '../support/history-scan';
import { accountResult, runRotationCampaign, type RotationRun } from '../support/rotation-campaigns';
import { startTestWorker, testClient, testStack } from '../support/test-stack';

// `fleetops campaign revert` of a secretsmanager rotation on the local stack (moto behind the proxy,
// OpenBao, Temporal dev server): a rotation over three of four accounts, one of them rotated again by a
// later campaign, then the revert as an operator runs it. Every account the rotation changed and nobody
// rotated since is back on its AWSCURRENT version and Vault live record from before (read from moto and
// OpenBao); the one rotated since and the one the rotation did not select are untouched. Hashes only: no value printed.
const cfg = testStack();
const TASK_QUEUE = 'rotation-revert-test';
const SECRET = 'collector-api-key';
const SECRET_ID = 'data-pipeline/collector-api-key';
const REGION = 'eu-west-1';
const RUN = `rotrev-${Date.now()}`;
const sha256 = (text: unknown) => createHash('sha256').update(String(text), 'utf8').digest('hex');

let accounts: FleetAccount[];
let run: RotationRun;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  const { file } = await runSimSeed({
    accounts: 4,
    idBase: 986_000_000_000,
    out: path.join(cfg.stateDir, 'rotation-revert-fleet.yaml'),
    quiet: true,
  });
  accounts = loadFleetFile(file);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
  run = {
    client: temporal.client,
    taskQueue: TASK_QUEUE,
    fleetFile: file,
    secret: SECRET,
    maxInFlight: 4,
    maxFailures: 3,
  };
}, 120_000);

afterAll(() =>
  cleanUp({
    alarm: () => setHealthAlarm(cfg, accounts?.[3], REGION, 'OK', 'set by the rotation revert test'),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

const fleetops = fleetopsCli(TASK_QUEUE);

/** The account's secret as AWS holds it (version ids per stage, the AWSCURRENT value's hash) and Vault's live record. */
async function secretState(account: FleetAccount) {
  const sm = new SecretsManagerClient({
    endpoint: cfg.awsEndpoint,
    region: REGION,
    credentials: await accountCredentials(cfg, account, 'rotation-revert-test'),
  });
  const stages = (await sm.send(new DescribeSecretCommand({ SecretId: SECRET_ID }))).VersionIdsToStages ?? {};
  const holder = (stage: string) => Object.keys(stages).find((id) => stages[id].includes(stage));
  const value = await sm.send(new GetSecretValueCommand({ SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }));
  const live = await kvRead(cfg, secretLiveRecordPath(account.id, SECRET));
  return {
    current: holder('AWSCURRENT'),
    previous: holder('AWSPREVIOUS'),
    currentHash: sha256(value.SecretString),
    live: live?.data ?? null,
  };
}

describe('campaign revert of a secretsmanager rotation (local stack)', () => {
  it('puts AWSCURRENT and the live record back where the rotation found them; rotated-since and other accounts untouched', async () => {
    const ids = accounts.map((a) => a.id);
    const before = await Promise.all(accounts.map(secretState));
    expect(before.every((b) => b.current)).toBe(true);

    // The campaign to take back: accounts 0-2 (3 not selected); then account 2 rotated again by another.
    const bad = `${RUN}-bad`;
    const rotated = await runRotationCampaign(run, bad, { select: { ids: ids.slice(0, 3) } });
    expect(rotated.counts).toEqual({ rotated: 3 });
    const again = await runRotationCampaign(run, `${RUN}-again`, { select: { ids: [ids[2]] } });
    expect(again.counts).toEqual({ rotated: 1 });
    const afterBad = await Promise.all(accounts.map(secretState));
    for (const i of [0, 1]) {
      expect(afterBad[i].current).toBe(rotationToken(bad, ids[i], SECRET, 1));
      expect(afterBad[i].currentHash).not.toBe(before[i].currentHash);
    }
    expect(afterBad[2].current).toBe(rotationToken(`${RUN}-again`, ids[2], SECRET, 1));
    // The rotation's result records what the revert needs.
    expect((await accountResult(temporal.client, bad, ids[0])).regions[0]).toMatchObject({
      secretKind: 'secretsmanager',
      secretId: SECRET_ID,
      fromVersion: before[0].current,
      toVersion: afterBad[0].current,
    });

    // The preview names each account's way back and starts nothing.
    const preview = await fleetops('campaign', 'revert', bad);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain(`revert of campaign ${bad} (rotate-secret): 3 account(s) go back`);
    expect(preview.stdout).toContain(
      `${REGION} ${SECRET_ID} AWSCURRENT ${afterBad[0].current} → ${before[0].current}: 1 (${ids[0]})`,
    );
    expect(preview.stdout).toContain(`left alone (0): not changed by ${bad}`);
    expect(preview.stdout).not.toContain(ids[3]);
    expect(preview.stdout).toContain('nothing started');

    const undo = `${RUN}-undo`;
    const started = await fleetops(
      'campaign',
      'revert',
      bad,
      '--yes',
      '--campaign-id',
      undo,
      '--max-in-flight',
      '2',
      '--failure-budget',
      '1',
    );
    expect(started.code, started.stderr).toBe(0);
    const report = (await temporal.client.workflow.getHandle(undo).result()) as CampaignStatus;
    expect(report).toMatchObject({ phase: 'completed', revertOf: bad, total: 3 });
    expect(report.counts).toEqual({ rotated: 2, skipped: 1 });
    expect(report.leftAlone ?? []).toEqual([]);
    const skipped = await accountResult(temporal.client, undo, ids[2]);
    expect(skipped.reason).toContain(`not the reverted rotation's ${rotationToken(bad, ids[2], SECRET, 1)}`);
    expect(skipped.reason).toContain('rotated again since');

    // Read from moto and OpenBao.
    const after = await Promise.all(accounts.map(secretState));
    for (const i of [0, 1]) {
      expect(after[i].current).toBe(before[i].current);
      expect(after[i].currentHash === before[i].currentHash).toBe(true);
      expect(after[i].previous).toBe(afterBad[i].current);
      expect(after[i].live).toEqual(before[i].live);
    }
    expect(after[2]).toEqual(afterBad[2]);
    expect(after[3]).toEqual(before[3]);

    // Run again, the revert finds every account back already: nothing moves.
    const twice = await fleetops('campaign', 'revert', bad, '--yes', '--campaign-id', `${RUN}-undo-2`);
    expect(twice.code, twice.stderr).toBe(0);
    const second = (await temporal.client.workflow.getHandle(`${RUN}-undo-2`).result()) as CampaignStatus;
    expect(second.counts).toEqual({ 'already-current': 2, skipped: 1 });
    expect(await Promise.all(accounts.map(secretState))).toEqual(after);

    // No value in any history of these workflows or in the worker log.
    const values: string[] = [];
    for (const a of accounts) values.push(...(await vaultValueVersions(cfg, secretVaultPath(a.id, SECRET))));
    expect(values.length).toBeGreaterThanOrEqual(accounts.length + 4);
    const histories = await allWorkflowHistories(temporal.client, `WorkflowId STARTS_WITH '${RUN}'`);
    expect(histories.length).toBeGreaterThanOrEqual(4 + 2 + 4 + 4);
    const leaks = histories.flatMap((h) =>
      secretsIn(decodedHistoryText(h.json), values).map((w) => `${h.workflowId}: ${w}`),
    );
    expect(leaks).toEqual([]);
    expect(secretsIn(worker.logLines.join('\n'), values)).toEqual([]);
  }, 300_000);

  it('an alarm during the bake after a revert quarantines the account; AWSCURRENT stays on the old version', async () => {
    const a = accounts[3];
    const before = await secretState(a);
    const rotation = `${RUN}-baked`;
    const rotated = await runRotationCampaign(run, rotation, {
      select: { ids: [a.id] },
      rotation: { secret: SECRET, healthBakeSeconds: 8, healthPollSeconds: 1 },
    });
    expect(rotated.counts).toEqual({ rotated: 1 });
    const undo = `${RUN}-baked-undo`;
    const started = await fleetops(
      'campaign',
      'revert',
      rotation,
      '--yes',
      '--campaign-id',
      undo,
      '--failure-budget',
      '2', // a budget of 1 is used up by this one account: the campaign would pause, not end
    );
    expect(started.code, started.stderr).toBe(0);
    await alarmDuringBake(temporal.client, `${undo}/${a.id}`, () =>
      setHealthAlarm(cfg, a, REGION, 'ALARM', 'set by the rotation revert test'),
    );
    const report = (await temporal.client.workflow.getHandle(undo).result()) as CampaignStatus;
    await setHealthAlarm(cfg, a, REGION, 'OK', 'set by the rotation revert test');
    expect(report.counts).toEqual({ quarantined: 1 });
    const result = await accountResult(temporal.client, undo, a.id);
    expect(result).toMatchObject({
      outcome: 'quarantined',
      errorType: 'HealthAlarm',
      runbook: 'docs/runbooks/revert-a-campaign.md#an-alarm-after-a-rotation-revert',
    });
    expect(result.reason).toContain(`after reverting the rotation of ${SECRET}; AWSCURRENT stays on ${before.current}`);
    const after = await secretState(a);
    expect(after.current).toBe(before.current);
    expect(after.currentHash === before.currentHash).toBe(true);
    expect(after.live).toEqual(before.live);
  }, 180_000);
});
