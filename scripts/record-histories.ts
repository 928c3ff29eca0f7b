/**
 * Records workflow histories from the current workflow code on a real local stack and writes them to
 * test/fixtures/histories/ as replay fixtures (test/workflow/history-replay.test.ts replays each one).
 *
 *   npx tsx scripts/record-histories.ts [--tag v2] [--only upgrade,inventory,inventory-drift,rotation,external-id,ami,soft-mode,revert,health-before,lease,ami-revert,rotation-revert]
 *
 * Brings up its own local stack (test ports, moved by FLEETOPS_TEST_PORT_OFFSET; state in
 * .fleetops-record/), runs the scenarios with the real worker, scans every history for secrets, writes
 * `<workflowType>-<scenario>[-run-N].json` (proto JSON, as `historyFromJSON` reads it) plus
 * `manifest.json` (each file's workflow id and run id: replay needs the workflow id) and takes the stack down. Re-record only on purpose (before a change that is meant to be replay-safe, keep the old files).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { historyToJSON } from '../test/support/history-json';
import type { Client } from '@temporalio/client';
import { seedLocalStack, writeExternalId } from '../cli/sim/seed-local-stack';
import { SIM_GROUP_NAME, externalIdRef, simulatedFleet } from '../cli/sim/simulated-fleet';
import { stringifyFleet } from '../fleet/load-fleet';
import type { FleetAccount } from '../fleet/fleet-schema';
import { healthAlarmName } from '../fleet/pipeline-stack';
import { secretVaultPath } from '../fleet/secret-vault-layout';
import { stackDown, stackUp } from '../stack/local-stack';
import { loadStackConfig } from '../stack/stack-config';
import type { FleetCampaignInput } from '../workflows/campaign/campaign-input';
import {
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  retryAccountUpdate,
  statusQuery,
  type CampaignStatus,
} from '../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../workflows/fleet-inventory';
import { accountLeaseId, leaseStateQuery } from '../workflows/lease/lease-messages';
import { decodedHistoryText, secretsIn } from '../test/support/history-scan';
import { TEST_STACK_ENV } from '../test/support/test-env';
import { alarmDuringBake } from '../test/support/alarm-during-bake';
import { until } from '../test/support/worker-process';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'test/fixtures/histories');
const MANIFEST = 'manifest.json';
const tagAt = process.argv.indexOf('--tag');
const TAG = tagAt > 0 && /^[a-z0-9.-]+$/i.test(process.argv[tagAt + 1] ?? '') ? `-${process.argv[tagAt + 1]}` : '';
if (tagAt > 0 && !TAG) throw new Error('--tag: expected letters, digits, . or -');
/** The scenarios to record (default: all). */
const SCENARIOS = [
  'upgrade',
  'inventory',
  'inventory-drift',
  'rotation',
  'external-id',
  'ami',
  'soft-mode',
  'revert',
  'health-before',
  'lease',
  'ami-revert',
  'rotation-revert',
] as const;
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt > 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : [...SCENARIOS];
if (!ONLY.length || ONLY.some((s) => !(SCENARIOS as readonly string[]).includes(s)))
  throw new Error(`--only: expected a comma-separated list of ${SCENARIOS.join(', ')}`);
const recording = (scenario: (typeof SCENARIOS)[number]) => ONLY.includes(scenario);
/** The rotation scenario's secret. */
const ROTATED_SECRET = 'collector-api-key';
/** The rotation scenario's IAM access key. */
const ROTATED_KEY = 'loader-access-key';
const TASK_QUEUE = 'record-histories';
const CAMPAIGN_ID = 'fixture-campaign';
/** 8 accounts: canary [0], early [1], general [2..6], late [7]; account 4 has two regions. */
const ACCOUNTS = simulatedFleet(8, { idBase: 500_000_000_000 });
/** The poisoned account: general, the first account of the campaign's second run (accountsPerRun 3). */
const POISONED = ACCOUNTS[3].id;
/** The rotation scenario's account whose health alarm fires (rolled back). */
const ROTATION_ALARMED = ACCOUNTS[2];

function log(line: string): void {
  process.stderr.write(`[record] ${line}\n`);
}

async function main(): Promise<void> {
  Object.assign(process.env, TEST_STACK_ENV, { FLEETOPS_STATE_DIR: '.fleetops-record' });
  const cfg = loadStackConfig();
  // Loaded after the environment points at the recording stack.
  const { setFaultPlan, startTestWorker, testClient, testStack } = await import('../test/support/test-stack');
  testStack();
  await stackDown(cfg, () => undefined);
  fs.rmSync(cfg.stateDir, { recursive: true, force: true });
  log(`local stack up in ${(await stackUp(cfg, () => undefined)).seconds.toFixed(1)} s (${cfg.stateDir})`);
  let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
  let temporal: Awaited<ReturnType<typeof testClient>> | undefined;
  try {
    // Known ExternalIds with a marker, so the replay test can scan fixtures for them without the stack.
    const externalIds: string[] = [];
    for (const a of ACCOUNTS) {
      externalIds.push(
        await writeExternalId(cfg, externalIdRef(a.id), `fixture-external-id-${a.id}-${Date.now().toString(36)}`),
      );
    }
    await seedLocalStack(cfg, ACCOUNTS);
    const fleetFile = path.join(cfg.stateDir, 'fixture-fleet.yaml');
    fs.writeFileSync(fleetFile, stringifyFleet(ACCOUNTS));
    worker = await startTestWorker(TASK_QUEUE);
    temporal = await testClient(cfg);
    const client = temporal.client;

    const recorded: Array<{ file: string; json: string; workflowId: string; runId: string }> = [];
    const record = async (file: string, workflowId: string, runId?: string) => {
      const handle = client.workflow.getHandle(workflowId, runId);
      const history = await handle.fetchHistory();
      runId ??= (await handle.describe()).runId;
      recorded.push({ file, json: historyToJSON(history) + '\n', workflowId, runId });
      log(`${file}: ${history.events?.length} events`);
    };

    // ---- 1 + 2: a campaign through continue-as-new with pause/resume, a rolled-back account and a retry ----
    if (recording('upgrade')) {
      await setFaultPlan(cfg, {
        rules: [],
        cloudformation: { updateDurationMs: 1500, poisonedVersions: [{ version: '1.1.0', accounts: [POISONED] }] },
      });
      const handle = await client.workflow.start('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: CAMPAIGN_ID,
        args: [
          {
            operation: 'upgrade',
            fleetFile,
            maxInFlight: 2,
            accountsPerRun: 3,
            failureBudget: { maxFailures: 1, onExceeded: 'pause' },
            upgrade: { targetVersion: '1.1.0', healthBakeSeconds: 1, healthPollSeconds: 1 },
          } satisfies FleetCampaignInput,
        ],
      });
      const waitFor = async (what: string, ok: (s: CampaignStatus) => boolean): Promise<CampaignStatus> => {
        for (let i = 0; i < 600; i++) {
          // The handle follows the chain of runs; a query can miss while a run hands over.
          const s = await handle.query(statusQuery).catch(() => undefined);
          if (s && ok(s)) return s;
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error(`campaign never reached: ${what}`);
      };
      await waitFor('canary upgraded', (s) => (s.counts.upgraded ?? 0) >= 1);
      // An operator pause (update), held until nothing is in flight, then resume (update).
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'fixture: operator pause' }] });
      await waitFor('paused and drained', (s) => s.phase === 'paused' && s.inFlight === 0);
      await handle.executeUpdate(resumeUpdate);
      // The poisoned account rolls back; the failure budget (1) pauses the campaign.
      const stopped = await waitFor('paused by the failure budget', (s) => s.phase === 'paused' && s.inFlight === 0);
      const problem = stopped.problems.find((p) => p.accountId === POISONED);
      if (problem?.state !== 'rolled-back')
        throw new Error(`expected ${POISONED} rolled back: ${JSON.stringify(stopped)}`);
      // The release is fixed: an operator retries the account (update) and resumes (signal, as the UI sends it).
      await setFaultPlan(cfg, { rules: [], cloudformation: { updateDurationMs: 1500 } });
      await handle.executeUpdate(retryAccountUpdate, { args: [{ accountId: POISONED }] });
      await handle.signal(resumeSignal);
      const report: CampaignReport = await handle.result();
      if (report.phase !== 'completed' || report.counts.upgraded !== ACCOUNTS.length || report.run < 3)
        throw new Error(`unexpected campaign report: ${JSON.stringify(report)}`);
      const runs = await runsOf(client, CAMPAIGN_ID);
      if (runs.length !== report.run) throw new Error(`expected ${report.run} runs, found ${runs.length}`);
      for (const [i, runId] of runs.entries())
        await record(`fleetCampaign-pause-retry-rollback${TAG}-run-${i + 1}.json`, CAMPAIGN_ID, runId);
      for (const a of ACCOUNTS) await record(`accountUpgrade-campaign${TAG}-${a.id}.json`, `${CAMPAIGN_ID}/${a.id}`);
      await record(`accountUpgrade-campaign${TAG}-${POISONED}-retry-1.json`, `${CAMPAIGN_ID}/${POISONED}/retry-1`);
      await setFaultPlan(cfg, null);
    }

    // ---- 3: an inventory through continue-as-new ----
    if (recording('inventory')) {
      const inventoryId = 'fixture-inventory';
      const inv: FleetInventoryReport = await client.workflow.execute('fleetInventory', {
        taskQueue: TASK_QUEUE,
        workflowId: inventoryId,
        args: [{ fleetFile, maxInFlight: 2, accountsPerRun: 4 }],
      });
      if (inv.succeeded !== ACCOUNTS.length) throw new Error(`unexpected inventory: ${JSON.stringify(inv)}`);
      for (const [i, runId] of (await runsOf(client, inventoryId)).entries())
        await record(`fleetInventory-continue-as-new${TAG}-run-${i + 1}.json`, inventoryId, runId);
    }

    // ---- 3b: a drift inventory through continue-as-new: one account's fleet version moved, every secret
    // older than a tiny limit (version and secret-age items in the carry and the report) ----
    if (recording('inventory-drift')) {
      const driftFleet = path.join(cfg.stateDir, 'fixture-fleet-drift.yaml');
      const moved = ACCOUNTS[1].id;
      fs.writeFileSync(
        driftFleet,
        stringifyFleet(
          ACCOUNTS.map((a) => (a.id === moved ? { ...a, pipeline: { ...a.pipeline, version: '1.2.0' } } : a)),
        ),
      );
      const driftId = 'fixture-inventory-drift';
      const inv: FleetInventoryReport = await client.workflow.execute('fleetInventory', {
        taskQueue: TASK_QUEUE,
        workflowId: driftId,
        args: [{ fleetFile: driftFleet, drift: true, maxSecretAgeDays: 0.00001, maxInFlight: 2, accountsPerRun: 4 }],
      });
      const versionDrifted = inv.drift?.accounts.filter((a) => a.kinds.includes('version')).map((a) => a.accountId);
      if (
        inv.succeeded !== ACCOUNTS.length ||
        inv.runs < 2 ||
        !versionDrifted?.includes(moved) ||
        inv.drift?.byKind['secret-age'] !== ACCOUNTS.length
      )
        throw new Error(`unexpected drift inventory: ${JSON.stringify(inv.drift)}`);
      for (const [i, runId] of (await runsOf(client, driftId)).entries())
        await record(`fleetInventory-drift${TAG}-run-${i + 1}.json`, driftId, runId);
    }

    // ---- 4: a secret rotation through continue-as-new, one account rolled back by its health alarm; a plan ----
    const values: string[] = [];
    /** IAM user key ids the key rotation names on purpose (their secrets are in `values`). */
    const keyIds: string[] = [];
    const credentials = worker.fleet.credentials;
    const setAlarm = (account: FleetAccount, state: 'OK' | 'ALARM') =>
      new CloudWatchClient({
        endpoint: cfg.awsEndpoint,
        region: 'eu-west-1',
        credentials: credentials.provider(account, 'fixture-alarm'),
      }).send(
        new SetAlarmStateCommand({
          AlarmName: healthAlarmName(account.pipeline.stackName),
          StateValue: state,
          StateReason: `fixture: ${state}`,
        }),
      );
    if (recording('rotation')) {
      const rotationId = 'fixture-rotation';
      // the alarm fires in the bake, after the change (already in ALARM before, the account is left alone)
      const rotatedAlarm = settled(
        alarmDuringBake(client, `${rotationId}/${ROTATION_ALARMED.id}`, () => setAlarm(ROTATION_ALARMED, 'ALARM')),
      );
      const rotated: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: rotationId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile,
            maxInFlight: 2,
            accountsPerRun: 3,
            failureBudget: { maxFailures: 2 },
            rotation: { secret: ROTATED_SECRET, healthBakeSeconds: 8, healthPollSeconds: 1 },
          } satisfies FleetCampaignInput,
        ],
      });
      const rotatedAlarmError = await rotatedAlarm;
      if (rotatedAlarmError) throw rotatedAlarmError;
      await setAlarm(ROTATION_ALARMED, 'OK');
      if (rotated.counts.rotated !== ACCOUNTS.length - 1 || rotated.counts['rolled-back'] !== 1 || rotated.run < 2)
        throw new Error(`unexpected rotation report: ${JSON.stringify(rotated)}`);
      for (const [i, runId] of (await runsOf(client, rotationId)).entries())
        await record(`fleetCampaign-rotation${TAG}-run-${i + 1}.json`, rotationId, runId);
      for (const a of ACCOUNTS)
        await record(`accountSecretRotation-campaign${TAG}-${a.id}.json`, `${rotationId}/${a.id}`);

      const planId = 'fixture-rotation-plan';
      const planned: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: planId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile,
            plan: true,
            select: { ids: [ACCOUNTS[0].id] },
            rotation: { secret: ROTATED_SECRET, olderThanDays: 30 },
          } satisfies FleetCampaignInput,
        ],
      });
      if (planned.counts.planned !== 1) throw new Error(`unexpected plan report: ${JSON.stringify(planned)}`);
      await record(`fleetCampaign-rotation-plan${TAG}-run-1.json`, planId);
      await record(`accountSecretRotation-plan${TAG}-${ACCOUNTS[0].id}.json`, `${planId}/${ACCOUNTS[0].id}`);
      // every value version Vault holds for the rotated secret: none may be in a history
      for (const a of ACCOUNTS) values.push(...(await vaultValues(cfg, secretVaultPath(a.id, ROTATED_SECRET))));

      // iam-access-key: three accounts with a short grace (a new key slow to work), one rolled back by its
      // alarm; the two others start their old key's cleanup, recorded once it deactivated and deleted the key.
      const keyAccounts = ACCOUNTS.slice(0, 3).map((a) => ({
        ...a,
        secrets: {
          ...a.secrets,
          [ROTATED_KEY]: { ...a.secrets?.[ROTATED_KEY], graceSeconds: 1, deleteAfterSeconds: 2 },
        },
      })) as FleetAccount[];
      const keyFleetFile = path.join(cfg.stateDir, 'fixture-key-fleet.yaml');
      fs.writeFileSync(keyFleetFile, stringifyFleet(keyAccounts));
      await setFaultPlan(cfg, { iam: { newKeyDelayMs: 1500, accounts: keyAccounts.map((a) => a.id) } });
      const keyAlarmed = keyAccounts[2];
      const keyRotationId = 'fixture-key-rotation';
      const keyAlarm = settled(
        alarmDuringBake(client, `${keyRotationId}/${keyAlarmed.id}`, () => setAlarm(keyAlarmed, 'ALARM')),
      );
      const keysRotated: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: keyRotationId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile: keyFleetFile,
            maxInFlight: 3,
            failureBudget: { maxFailures: 2 },
            rotation: { secret: ROTATED_KEY, healthBakeSeconds: 8, healthPollSeconds: 1 },
          } satisfies FleetCampaignInput,
        ],
      });
      const keyAlarmError = await keyAlarm;
      if (keyAlarmError) throw keyAlarmError;
      await setAlarm(keyAlarmed, 'OK');
      await setFaultPlan(cfg, null);
      if (keysRotated.counts.rotated !== 2 || keysRotated.counts['rolled-back'] !== 1)
        throw new Error(`unexpected key rotation report: ${JSON.stringify(keysRotated)}`);
      await record(`fleetCampaign-key-rotation${TAG}-run-1.json`, keyRotationId);
      for (const a of keyAccounts) {
        await record(`accountSecretRotation-key${TAG}-${a.id}.json`, `${keyRotationId}/${a.id}`);
        values.push(...(await vaultValues(cfg, secretVaultPath(a.id, ROTATED_KEY), 'secretAccessKey')));
        keyIds.push(...(await vaultValues(cfg, secretVaultPath(a.id, ROTATED_KEY), 'accessKeyId')));
      }
      for await (const wf of client.workflow.list({
        query: `WorkflowType = 'secretKeyCleanup' AND WorkflowId STARTS_WITH '${keyRotationId}/'`,
      })) {
        await client.workflow.getHandle(wf.workflowId).result();
        await record(`secretKeyCleanup-key${TAG}-${wf.workflowId.split('/')[1]}.json`, wf.workflowId);
      }
    }

    // ---- 5: an ExternalId rotation: two accounts rotated (their old ids removed after a 1 s grace), one
    // rolled back by its alarm ----
    if (recording('external-id')) {
      const idAccounts = ACCOUNTS.slice(0, 3).map((a) => ({
        ...a,
        secrets: { ...a.secrets, 'external-id': { kind: 'external-id', graceSeconds: 1 } },
      })) as FleetAccount[];
      const idFleetFile = path.join(cfg.stateDir, 'fixture-xid-fleet.yaml');
      fs.writeFileSync(idFleetFile, stringifyFleet(idAccounts));
      const idAlarmed = idAccounts[2];
      const idRotationId = 'fixture-xid-rotation';
      const idAlarm = settled(
        alarmDuringBake(client, `${idRotationId}/${idAlarmed.id}`, () => setAlarm(idAlarmed, 'ALARM')),
      );
      const idsRotated: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: idRotationId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile: idFleetFile,
            maxInFlight: 3,
            failureBudget: { maxFailures: 2 },
            rotation: { secret: 'external-id', healthBakeSeconds: 8, healthPollSeconds: 1 },
          } satisfies FleetCampaignInput,
        ],
      });
      const idAlarmError = await idAlarm;
      if (idAlarmError) throw idAlarmError;
      await setAlarm(idAlarmed, 'OK');
      if (idsRotated.counts.rotated !== 2 || idsRotated.counts['rolled-back'] !== 1)
        throw new Error(`unexpected ExternalId rotation report: ${JSON.stringify(idsRotated)}`);
      await record(`fleetCampaign-external-id-rotation${TAG}-run-1.json`, idRotationId);
      for (const a of idAccounts) {
        await record(`accountSecretRotation-external-id${TAG}-${a.id}.json`, `${idRotationId}/${a.id}`);
        values.push(...(await vaultValues(cfg, a.externalIdRef, 'externalId')));
        values.push(...(await vaultValues(cfg, a.externalIdRef, 'pendingExternalId')));
      }
      for await (const wf of client.workflow.list({
        query: `WorkflowType = 'externalIdCleanup' AND WorkflowId STARTS_WITH '${idRotationId}/'`,
      })) {
        await client.workflow.getHandle(wf.workflowId).result();
        await record(`externalIdCleanup${TAG}-${wf.workflowId.split('/')[1]}.json`, wf.workflowId);
      }
    }

    // ---- 6: an AMI rollout: two accounts' groups moved to a new image (one refresh each, M the default),
    // one rolled back by a poisoned image (its refresh fails and AutoRollback puts it back on N) ----
    if (recording('ami')) {
      const { runSimImageBuild } = await import('../cli/sim/sim-image-build');
      const { runImagePublish } = await import('../cli/commands/image');
      const name = `fixture-image${TAG || '-1'}`;
      const built = await runSimImageBuild({
        name,
        fleet: fleetFile,
        manifest: path.join(cfg.stateDir, 'fixture-packer-manifest.json'),
        quiet: true,
      });
      await runImagePublish({ manifest: built.manifest, name, fleet: fleetFile, quiet: true });
      const amiAccounts = ACCOUNTS.slice(0, 3);
      const poisoned = amiAccounts[2];
      await setFaultPlan(cfg, {
        rules: [],
        autoscaling: {
          poisonedImages: built.images.map((i) => ({ imageId: i.imageId, accounts: [poisoned.id], failAtPercent: 25 })),
        },
      });
      const amiRolloutId = 'fixture-ami-rollout';
      const rolled: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: amiRolloutId,
        args: [
          {
            operation: 'ami-rollout',
            fleetFile,
            select: { ids: amiAccounts.map((a) => a.id) },
            maxInFlight: 3,
            failureBudget: { maxFailures: 2 },
            ami: { image: 'latest', healthBakeSeconds: 1, healthPollSeconds: 1 },
          } as FleetCampaignInput,
        ],
      });
      await setFaultPlan(cfg, null);
      if (rolled.counts['rolled-out'] !== 2 || rolled.counts['rolled-back'] !== 1)
        throw new Error(`unexpected AMI rollout report: ${JSON.stringify(rolled)}`);
      await record(`fleetCampaign-ami-rollout${TAG}-run-1.json`, amiRolloutId);
      for (const a of amiAccounts) await record(`accountAmiRollout${TAG}-${a.id}.json`, `${amiRolloutId}/${a.id}`);

      // An account with two groups (eu-west-1, us-east-1): the second one's alarm fires in its bake and its
      // way back to N fails (the base image poisoned for it): it is quarantined, the first still goes back
      // on N (the PUT_BACK_EVERY_GROUP path).
      const { groupState } = await import('../test/support/ami-fleet-checks');
      const twoGroups = ACCOUNTS[4];
      const usBase = (await groupState(cfg, twoGroups, 'us-east-1', { withImage: true })).imageId;
      const usImage = built.images.find((i) => i.region === 'us-east-1')?.imageId;
      if (!usBase || !usImage) throw new Error(`no us-east-1 images for ${twoGroups.id}: ${usBase} ${usImage}`);
      await setFaultPlan(cfg, {
        rules: [],
        autoscaling: {
          poisonedImages: [{ imageId: usBase, accounts: [twoGroups.id] }],
          alarms: [{ imageId: usImage, accounts: [twoGroups.id], afterMs: 0 }],
        },
      });
      const putBackId = 'fixture-ami-put-back';
      const putBack: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: putBackId,
        args: [
          {
            operation: 'ami-rollout',
            fleetFile,
            select: { ids: [twoGroups.id] },
            failureBudget: { maxFailures: 2 }, // one quarantined account must not pause the campaign
            ami: { image: name, healthBakeSeconds: 2, healthPollSeconds: 1 },
          } as FleetCampaignInput,
        ],
      });
      await setFaultPlan(cfg, null);
      if (putBack.counts.quarantined !== 1)
        throw new Error(`unexpected AMI put-back report: ${JSON.stringify(putBack)}`);
      await record(`fleetCampaign-ami-put-back${TAG}-run-1.json`, putBackId);
      await record(`accountAmiRollout-put-back${TAG}-${twoGroups.id}.json`, `${putBackId}/${twoGroups.id}`);
    }

    // ---- 7: a soft-mode upgrade (concurrencyMode "soft", patch marker): the general ring at maxInFlight 3
    // with a budget of 1; the poisoned account spends it (pause), the fixed release is resumed to the end ----
    if (recording('soft-mode')) {
      const softId = 'fixture-soft-mode';
      const general = ACCOUNTS.filter((a) => a.ring === 'general');
      await setFaultPlan(cfg, {
        rules: [],
        cloudformation: { updateDurationMs: 1500, poisonedVersions: [{ version: '1.2.0', accounts: [POISONED] }] },
      });
      const handle = await client.workflow.start('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: softId,
        args: [
          {
            operation: 'upgrade',
            fleetFile,
            select: { ids: general.map((a) => a.id) },
            maxInFlight: 3,
            concurrencyMode: 'soft',
            failureBudget: { maxFailures: 1, onExceeded: 'pause' },
            upgrade: { targetVersion: '1.2.0', healthBakeSeconds: 1, healthPollSeconds: 1 },
          } satisfies FleetCampaignInput,
        ],
      });
      let stopped: CampaignStatus | undefined;
      for (let i = 0; i < 600 && !stopped; i++) {
        const s = await handle.query(statusQuery).catch(() => undefined);
        if (s?.phase === 'paused' && s.inFlight === 0) stopped = s;
        else await new Promise((r) => setTimeout(r, 200));
      }
      if (stopped?.concurrencyMode !== 'soft' || !/failure budget/.test(stopped.phaseReason ?? ''))
        throw new Error(`expected a soft campaign paused by its budget: ${JSON.stringify(stopped)}`);
      await setFaultPlan(cfg, { rules: [], cloudformation: { updateDurationMs: 1500 } });
      await handle.executeUpdate(resumeUpdate);
      const report: CampaignReport = await handle.result();
      if (report.phase !== 'completed' || report.counts.upgraded !== general.length - 1)
        throw new Error(`unexpected soft-mode report: ${JSON.stringify(report)}`);
      await record(`fleetCampaign-soft-mode${TAG}-run-1.json`, softId);
      await setFaultPlan(cfg, null);
    }

    // ---- 8: the downgrade guard and a revert (patch markers): accounts 0 and 4 (two regions) upgraded from
    // 1.0.2 to 1.3.0; an upgrade of account 0 to 1.1.0 is refused (skipped); the revert takes both back to 1.0.2 ----
    if (recording('revert')) {
      const badId = 'fixture-revert-bad';
      const downId = 'fixture-downgrade';
      const revertId = 'fixture-revert';
      const changed = [ACCOUNTS[0], ACCOUNTS[4]];
      const upgradeTo = (workflowId: string, version: string, accounts: FleetAccount[]) =>
        client.workflow.execute('fleetCampaign', {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [
            {
              operation: 'upgrade',
              fleetFile,
              select: { ids: accounts.map((a) => a.id) },
              upgrade: { targetVersion: version, healthBakeSeconds: 1, healthPollSeconds: 1 },
            } satisfies FleetCampaignInput,
          ],
        }) as Promise<CampaignReport>;
      // moto finds "no changes" in a change set back to a stack's creation version: move off it first
      await upgradeTo('fixture-revert-setup', '1.0.2', changed);
      const bad = await upgradeTo(badId, '1.3.0', changed);
      if (bad.counts.upgraded !== 2) throw new Error(`unexpected revert-bad report: ${JSON.stringify(bad)}`);
      const down = await upgradeTo(downId, '1.1.0', [ACCOUNTS[0]]);
      if (down.counts.skipped !== 1 || down.problems[0]?.errorType !== 'DowngradeRefused')
        throw new Error(`expected the downgrade refused: ${JSON.stringify(down)}`);
      const reverted = await runRevert(client, badId, revertId, '1');
      if (reverted.phase !== 'completed' || reverted.counts.upgraded !== 2)
        throw new Error(`unexpected revert report: ${JSON.stringify(reverted)}`);
      await record(`fleetCampaign-downgrade-refused${TAG}-run-1.json`, downId);
      await record(`accountUpgrade-downgrade-refused${TAG}-${ACCOUNTS[0].id}.json`, `${downId}/${ACCOUNTS[0].id}`);
      await record(`fleetCampaign-revert${TAG}-run-1.json`, revertId);
      for (const a of changed) await record(`accountUpgrade-revert${TAG}-${a.id}.json`, `${revertId}/${a.id}`);
    }

    // ---- 9: health before the change (patch health-check-before-change): in each operation one of three
    // accounts has its health alarm in ALARM beforehand — it is left alone (unhealthy-before), the others
    // change; and a plan of the unhealthy account says it would skip it ----
    if (recording('health-before')) {
      const trio = ACCOUNTS.slice(0, 3);
      const sick = trio[1];
      const ids = trio.map((a) => a.id);
      const expectOutcomes = (what: string, r: CampaignReport, done: string) => {
        if (r.phase !== 'completed' || r.counts[done] !== 2 || r.counts['unhealthy-before'] !== 1)
          throw new Error(`unexpected ${what} report: ${JSON.stringify(r)}`);
        const p = r.problems.find((x) => x.accountId === sick.id);
        if (p?.state !== 'unhealthy-before' || !p.reason.includes(`in ALARM`))
          throw new Error(`expected ${sick.id} unhealthy-before with its alarm: ${JSON.stringify(r.problems)}`);
      };
      await setAlarm(sick, 'ALARM');
      const runCampaign = (workflowId: string, input: FleetCampaignInput): Promise<CampaignReport> =>
        client.workflow.execute('fleetCampaign', { taskQueue: TASK_QUEUE, workflowId, args: [input] });
      const upgradeId = 'fixture-health-upgrade';
      expectOutcomes(
        'health-before upgrade',
        await runCampaign(upgradeId, {
          operation: 'upgrade',
          fleetFile,
          select: { ids },
          maxInFlight: 3,
          failureBudget: { maxFailures: 1 },
          upgrade: { targetVersion: '1.3.0', healthBakeSeconds: 1, healthPollSeconds: 1 },
        }),
        'upgraded',
      );
      await record(`fleetCampaign-health-upgrade${TAG}-run-1.json`, upgradeId);
      for (const a of trio) await record(`accountUpgrade-health${TAG}-${a.id}.json`, `${upgradeId}/${a.id}`);

      const planId = 'fixture-health-plan';
      const planned = await runCampaign(planId, {
        operation: 'upgrade',
        fleetFile,
        plan: true,
        select: { ids: [sick.id] },
        upgrade: { targetVersion: '1.4.0' },
      });
      if (
        planned.counts['unhealthy-before'] !== 1 ||
        !JSON.stringify(planned.planReport).includes('would skip: unhealthy')
      )
        throw new Error(`unexpected health-before plan: ${JSON.stringify(planned)}`);
      await record(`accountUpgrade-health-plan${TAG}-${sick.id}.json`, `${planId}/${sick.id}`);

      const rotationId = 'fixture-health-rotation';
      expectOutcomes(
        'health-before rotation',
        await runCampaign(rotationId, {
          operation: 'rotate-secret',
          fleetFile,
          select: { ids },
          maxInFlight: 3,
          failureBudget: { maxFailures: 1 },
          rotation: { secret: ROTATED_SECRET, healthBakeSeconds: 1, healthPollSeconds: 1 },
        }),
        'rotated',
      );
      await setAlarm(sick, 'OK');
      await record(`fleetCampaign-health-rotation${TAG}-run-1.json`, rotationId);
      for (const a of trio) {
        await record(`accountSecretRotation-health${TAG}-${a.id}.json`, `${rotationId}/${a.id}`);
        values.push(...(await vaultValues(cfg, secretVaultPath(a.id, ROTATED_SECRET))));
      }

      // AMI: the sick account's group alarm (`<group>-health`, made here: the seed makes only the pipeline's)
      const { runSimImageBuild } = await import('../cli/sim/sim-image-build');
      const { runImagePublish } = await import('../cli/commands/image');
      const name = `fixture-health-image${TAG || '-1'}`;
      const built = await runSimImageBuild({
        name,
        fleet: fleetFile,
        manifest: path.join(cfg.stateDir, 'fixture-health-packer-manifest.json'),
        quiet: true,
      });
      await runImagePublish({ manifest: built.manifest, name, fleet: fleetFile, quiet: true });
      const cw = new CloudWatchClient({
        endpoint: cfg.awsEndpoint,
        region: 'eu-west-1',
        credentials: credentials.provider(sick, 'fixture-alarm'),
      });
      const groupAlarm = `${SIM_GROUP_NAME}-health`;
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName: groupAlarm,
          Namespace: 'fleetops/simulated',
          MetricName: 'PipelineHealth',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
      await cw.send(
        new SetAlarmStateCommand({ AlarmName: groupAlarm, StateValue: 'ALARM', StateReason: 'fixture: ALARM' }),
      );
      const amiId = 'fixture-health-ami';
      expectOutcomes(
        'health-before AMI rollout',
        await runCampaign(amiId, {
          operation: 'ami-rollout',
          fleetFile,
          select: { ids },
          maxInFlight: 3,
          failureBudget: { maxFailures: 1 },
          ami: { image: name, healthBakeSeconds: 1, healthPollSeconds: 1 },
        } as FleetCampaignInput),
        'rolled-out',
      );
      await cw.send(new SetAlarmStateCommand({ AlarmName: groupAlarm, StateValue: 'OK', StateReason: 'fixture: OK' }));
      await record(`fleetCampaign-health-ami${TAG}-run-1.json`, amiId);
      for (const a of trio) await record(`accountAmiRollout-health${TAG}-${a.id}.json`, `${amiId}/${a.id}`);
    }

    // ---- 10: two overlapping upgrade campaigns on the same two accounts (per-account lease, patch markers):
    // each account changed by one campaign at a time, the other's child waits ("waiting for <campaign>") ----
    if (recording('lease')) {
      const leased = [ACCOUNTS[2], ACCOUNTS[5]];
      await setFaultPlan(cfg, { rules: [], cloudformation: { updateDurationMs: 1500 } });
      const start = (id: string, version: string) =>
        client.workflow.start('fleetCampaign', {
          taskQueue: TASK_QUEUE,
          workflowId: id,
          args: [
            {
              operation: 'upgrade',
              fleetFile,
              select: { ids: leased.map((a) => a.id) },
              maxInFlight: 2,
              failureBudget: { maxFailures: 2 },
              respectMaintenanceWindows: false,
              leaseWaitSeconds: 600,
              upgrade: { targetVersion: version, healthBakeSeconds: 1, healthPollSeconds: 1 },
            } satisfies FleetCampaignInput,
          ],
        });
      // a first (it holds both accounts before b starts): b's 1.4.0 then follows a's 1.3.0 — the other
      // order would make a's move a refused downgrade
      const a = await start('fixture-lease-a', '1.3.0');
      const holds = async (accountId: string) =>
        (
          await client.workflow
            .getHandle(accountLeaseId(accountId))
            .query(leaseStateQuery)
            .catch(() => undefined)
        )?.holder?.campaignId === 'fixture-lease-a';
      await until(
        'fixture-lease-a to hold both accounts',
        async () => (await Promise.all(leased.map((acc) => holds(acc.id)))).every(Boolean),
        60_000,
      );
      const b = await start('fixture-lease-b', '1.4.0');
      let waited = false;
      for (let i = 0; i < 600 && !waited; i++) {
        for (const h of [a, b]) {
          const s = await h.query(statusQuery).catch(() => undefined);
          if (s?.waitingForLease?.length) waited = true;
        }
        if (!waited) await new Promise((r) => setTimeout(r, 100));
      }
      if (!waited) throw new Error('no account ever waited for the other campaign');
      const reports: CampaignReport[] = [await a.result(), await b.result()];
      if (reports.some((r) => r.phase !== 'completed' || r.counts.upgraded !== leased.length))
        throw new Error(`unexpected lease reports: ${JSON.stringify(reports)}`);
      for (const [name, h] of [
        ['a', a],
        ['b', b],
      ] as const) {
        await record(`fleetCampaign-lease-${name}${TAG}-run-1.json`, h.workflowId);
        for (const acc of leased)
          await record(`accountUpgrade-lease-${name}${TAG}-${acc.id}.json`, `${h.workflowId}/${acc.id}`);
      }
      for (const acc of leased) {
        for (const [i, runId] of (await runsOf(client, `account-lease/${acc.id}`)).entries())
          await record(`accountLease-lease${TAG}-${acc.id}-run-${i + 1}.json`, `account-lease/${acc.id}`, runId);
      }
      await setFaultPlan(cfg, null);
    }

    // ---- 11: the revert of an AMI rollout (patch ami-revert): accounts 0 and 4 (two groups) moved to a new
    // image, then `campaign revert` takes each group back to its version N (refresh to N, N the default) ----
    if (recording('ami-revert')) {
      const { runSimImageBuild } = await import('../cli/sim/sim-image-build');
      const { runImagePublish } = await import('../cli/commands/image');
      const name = `fixture-revert-image${TAG || '-1'}`;
      const built = await runSimImageBuild({
        name,
        fleet: fleetFile,
        manifest: path.join(cfg.stateDir, 'fixture-revert-packer-manifest.json'),
        quiet: true,
      });
      await runImagePublish({ manifest: built.manifest, name, fleet: fleetFile, quiet: true });
      const moved = [ACCOUNTS[0], ACCOUNTS[4]];
      const rolloutId = 'fixture-ami-revert-rollout';
      const revertId = 'fixture-ami-revert';
      await setFaultPlan(cfg, { rules: [], autoscaling: { refreshDurationMs: 1000, pendingMs: 200 } });
      const rolled: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: rolloutId,
        args: [
          {
            operation: 'ami-rollout',
            fleetFile,
            select: { ids: moved.map((a) => a.id) },
            maxInFlight: 2,
            failureBudget: { maxFailures: 1 },
            ami: { image: name, healthBakeSeconds: 1, healthPollSeconds: 1 },
          } as FleetCampaignInput,
        ],
      });
      if (rolled.counts['rolled-out'] !== 2)
        throw new Error(`unexpected AMI rollout (to revert) report: ${JSON.stringify(rolled)}`);
      const reverted = await runRevert(client, rolloutId, revertId, '2');
      await setFaultPlan(cfg, null);
      if (reverted.phase !== 'completed' || reverted.counts['rolled-out'] !== 2)
        throw new Error(`unexpected AMI revert report: ${JSON.stringify(reverted)}`);
      await record(`fleetCampaign-ami-revert${TAG}-run-1.json`, revertId);
      for (const a of moved) {
        await record(`accountAmiRollout-ami-revert-rollout${TAG}-${a.id}.json`, `${rolloutId}/${a.id}`);
        await record(`accountAmiRollout-ami-revert${TAG}-${a.id}.json`, `${revertId}/${a.id}`);
      }
    }

    // ---- 12: the revert of a secretsmanager rotation: accounts 0 and 1 rotated, then `campaign revert` moves
    // AWSCURRENT and the live record back (a new input field, `rotation.revert`: no patch) ----
    if (recording('rotation-revert')) {
      const moved = [ACCOUNTS[0], ACCOUNTS[1]];
      const rotationId = 'fixture-rotation-revert-rotation';
      const revertId = 'fixture-rotation-revert';
      const rotated: CampaignReport = await client.workflow.execute('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: rotationId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile,
            select: { ids: moved.map((a) => a.id) },
            maxInFlight: 2,
            failureBudget: { maxFailures: 1 },
            rotation: { secret: ROTATED_SECRET, healthBakeSeconds: 1, healthPollSeconds: 1 },
          } as FleetCampaignInput,
        ],
      });
      if (rotated.counts.rotated !== 2)
        throw new Error(`unexpected rotation (to revert) report: ${JSON.stringify(rotated)}`);
      const reverted = await runRevert(client, rotationId, revertId, '2');
      if (reverted.phase !== 'completed' || reverted.counts.rotated !== 2)
        throw new Error(`unexpected rotation revert report: ${JSON.stringify(reverted)}`);
      for (const a of moved) values.push(...(await vaultValues(cfg, secretVaultPath(a.id, ROTATED_SECRET))));
      await record(`fleetCampaign-rotation-revert${TAG}-run-1.json`, revertId);
      for (const a of moved) {
        await record(`accountSecretRotation-rotation-revert-rotation${TAG}-${a.id}.json`, `${rotationId}/${a.id}`);
        await record(`accountSecretRotation-rotation-revert${TAG}-${a.id}.json`, `${revertId}/${a.id}`);
      }
    }

    // ---- no secret in any history: the worker's cached credentials, the ExternalIds, known patterns ----
    const cachedCredentials = worker.fleet.credentials as unknown as {
      cache: Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
    };
    const secrets = [
      ...externalIds,
      ...values,
      ...[...cachedCredentials.cache.values()].flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
    ];
    if (cachedCredentials.cache.size === 0) throw new Error('no cached credentials to scan for');
    for (const r of recorded) {
      const found = secretsIn(decodedHistoryText(r.json), secrets, keyIds);
      if (found.length) throw new Error(`${r.file} holds secrets (${found.join(', ')}); nothing written`);
    }

    // Files of the same name are replaced; every other fixture (recorded from older code) stays.
    fs.mkdirSync(OUT_DIR, { recursive: true });
    for (const r of recorded) fs.writeFileSync(path.join(OUT_DIR, r.file), r.json);
    const manifestFile = path.join(OUT_DIR, MANIFEST);
    const manifest = {
      ...(fs.existsSync(manifestFile) ? (JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as object) : {}),
      ...Object.fromEntries(
        recorded.map((r) => {
          // The key ids this history names (allowed by the replay test's secret scan), none other.
          const allowedKeyIds = keyIds.filter((id) => r.json.includes(id) || decodedHistoryText(r.json).includes(id));
          return [
            r.file,
            { workflowId: r.workflowId, runId: r.runId, ...(allowedKeyIds.length ? { allowedKeyIds } : {}) },
          ];
        }),
      ),
    };
    fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
    log(`wrote ${recorded.length} histories to ${path.relative(ROOT, OUT_DIR)}`);
  } finally {
    await setFaultPlan(cfg, null).catch(() => undefined);
    await worker?.stop().catch((e: unknown) => log(`worker stop: ${String(e)}`));
    await temporal?.close().catch(() => undefined);
    await stackDown(cfg, () => undefined);
  }
}

/** `fleetops campaign revert <of> --yes --campaign-id <revertId>` as the CLI resolves it, run to its end. */
async function runRevert(client: Client, of: string, revertId: string, maxInFlight: string): Promise<CampaignReport> {
  const { CampaignRevertPlanner } = await import('../cli/commands/campaign-revert-plan');
  const { revertInput } = await import('../cli/commands/campaign-revert');
  const plan = await new CampaignRevertPlanner(client, 'default').plan(of);
  const { input } = revertInput(of, plan, { campaignId: revertId, maxInFlight });
  return client.workflow.execute('fleetCampaign', { taskQueue: TASK_QUEUE, workflowId: revertId, args: [input] });
}

/** Every version's `value` (or another field) of a KV v2 secret (to scan the histories for). */
async function vaultValues(
  cfg: ReturnType<typeof loadStackConfig>,
  kvPath: string,
  field = 'value',
): Promise<string[]> {
  const read = async (version?: number) => {
    const res = await fetch(`${cfg.vaultAddr}/v1/${kvPath}${version ? `?version=${version}` : ''}`, {
      headers: { 'X-Vault-Token': cfg.vaultDevToken },
    });
    if (!res.ok) throw new Error(`Vault ${kvPath}: HTTP ${res.status}`);
    return ((await res.json()) as { data: { data: Record<string, unknown>; metadata: { version: number } } }).data;
  };
  const latest = await read();
  const out: string[] = [];
  for (let v = 1; v <= latest.metadata.version; v++) {
    const value = (await read(v)).data[field];
    if (typeof value === 'string') out.push(value);
  }
  return out;
}

/** The promise's error, or undefined once it resolved (awaited later without an unhandled rejection meanwhile). */
function settled(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e ?? new Error('rejected'),
  );
}

/** Run ids of a workflow id, oldest first (the runs of a continue-as-new chain). */
async function runsOf(client: Client, workflowId: string): Promise<string[]> {
  const runs: Array<{ runId: string; startTime: Date }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push({ runId: wf.runId, startTime: wf.startTime });
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime()).map((r) => r.runId);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[record] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
