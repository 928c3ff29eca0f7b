import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { decodedHistoryText, secretsIn } from '../support/history-scan';
import { historyFromJSON } from '../support/history-json';
import { PUT_BACK_EVERY_GROUP } from '../../workflows/ami/account-ami-rollout';
import { HEALTH_CHECK_BEFORE_CHANGE } from '../../workflows/operation/health-before';
import { LEASE_WAIT_LIMIT } from '../../workflows/campaign/campaign-engine';
import { ACCOUNT_LEASE } from '../../workflows/lease/account-lease-holder';

// Replays histories recorded from earlier workflow code (scripts/record-histories.ts) against the
// current workflow code: a change that is not replay-safe (a different command sequence for the same
// history) fails here, before a deploy breaks the campaigns that are running. Offline: no local stack
// is needed (FLEETOPS_TEST_STACK=off skips bringing it up).

const DIR = path.resolve(__dirname, '../fixtures/histories');
const EventType = temporal.api.enums.v1.EventType;
type History = temporal.api.history.v1.IHistory;

/**
 * Each history file's workflow id (replay needs it: e.g. child ids derive from it) and run id; for an
 * iam-access-key rotation, the IAM user key ids it names on purpose (ids, never their secrets).
 */
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Record<
  string,
  { workflowId: string; runId: string; allowedKeyIds?: string[] }
>;
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'manifest.json')
  .sort();
const fixtures = files.map((file) => {
  const text = fs.readFileSync(path.join(DIR, file), 'utf8');
  return { file, text, workflowId: manifest[file]?.workflowId, history: historyFromJSON(JSON.parse(text)) };
});

const workflowType = (h: History) => h.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
const has = (h: History, type: temporal.api.enums.v1.EventType) => h.events?.some((e) => e.eventType === type);
/** Names of the updates accepted and signals received. */
const messages = (h: History): string[] =>
  (h.events ?? []).flatMap((e) => [
    ...(e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name
      ? [`update:${e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.name}`]
      : []),
    ...(e.workflowExecutionSignaledEventAttributes?.signalName
      ? [`signal:${e.workflowExecutionSignaledEventAttributes.signalName}`]
      : []),
  ]);
/** The workflow's result (first payload, JSON), if it completed. */
const result = (h: History): unknown => {
  const data = h.events?.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
    ?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
};
const ofType = (type: string) => fixtures.filter((f) => workflowType(f.history) === type);

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
}, 120_000);

describe('recorded histories (test/fixtures/histories)', () => {
  it('cover every scenario: campaign through continue-as-new with pause/resume, retryAccount and a rollback; inventory; secret rotation', () => {
    // Recorded by scripts/record-histories.ts, per set: 3 campaign runs, 9 children (8 accounts + 1 retry),
    // 2 inventory runs. The first set is from before the engine became a class; v2 from after.
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
    expect(Object.keys(manifest).sort()).toEqual(files);
    for (const f of fixtures) expect(f.file.startsWith(`${workflowType(f.history)}-`), f.file).toBe(true);

    const campaigns = ofType('fleetCampaign').map((f) => f.history);
    expect(campaigns.length).toBeGreaterThanOrEqual(3);
    // Each recorded set (one per --tag) is one campaign: every run but its last continued as new.
    const sets = new Map<string, typeof campaigns>();
    for (const f of ofType('fleetCampaign')) {
      const set = f.file.replace(/-run-\d+\.json$/, '');
      sets.set(set, [...(sets.get(set) ?? []), f.history]);
    }
    for (const [set, runs] of sets) {
      const continued = runs.filter((h) => has(h, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW));
      expect(continued.length, set).toBe(runs.length - 1);
      expect(
        runs.filter((h) => has(h, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)),
        set,
      ).toHaveLength(1);
    }
    const sent = campaigns.flatMap(messages);
    expect(sent).toContain('update:pause');
    expect(sent).toContain('update:resume');
    expect(sent).toContain('signal:resume');
    expect(sent).toContain('update:retryAccount');

    const upgrades = ofType('accountUpgrade').map((f) => result(f.history) as { outcome?: string } | undefined);
    expect(upgrades.length).toBeGreaterThanOrEqual(2);
    expect(upgrades.map((r) => r?.outcome)).toContain('rolled-back');
    expect(upgrades.map((r) => r?.outcome)).toContain('upgraded');

    // The rotation set (--tag rotation): a campaign through continue-as-new with one account rolled back
    // by its health alarm, and a plan-mode campaign.
    const rotations = ofType('accountSecretRotation').map((f) => result(f.history) as { outcome?: string } | undefined);
    expect(rotations.length).toBeGreaterThanOrEqual(3);
    expect(rotations.map((r) => r?.outcome)).toEqual(expect.arrayContaining(['rotated', 'rolled-back', 'planned']));

    // The AMI set (--tag ami): two accounts' groups moved to the new image, one rolled back by a poisoned image.
    const amis = ofType('accountAmiRollout').map((f) => result(f.history) as { outcome?: string } | undefined);
    expect(amis.map((r) => r?.outcome)).toEqual(expect.arrayContaining(['rolled-out', 'rolled-back']));
    // The put-back set (--tag multi-group): one group could not go back on N, the account's other group still did
    // (the PUT_BACK_EVERY_GROUP patch marker is in its history).
    const putBack = ofType('accountAmiRollout').filter((f) =>
      decodedHistoryText(f.text).includes(PUT_BACK_EVERY_GROUP),
    );
    expect(putBack.map((f) => (result(f.history) as { outcome?: string } | undefined)?.outcome)).toEqual([
      'quarantined',
    ]);

    // The soft-mode set (--only soft-mode): a campaign with concurrencyMode "soft", whose first run recorded
    // the patch marker that gates it, paused by its budget and resumed to the end.
    const soft = fixtures.filter((f) => f.file.startsWith('fleetCampaign-soft-mode'));
    expect(soft.length).toBeGreaterThanOrEqual(1);
    for (const f of soft) {
      expect(decodedHistoryText(f.text), f.file).toContain('"concurrencyMode":"soft"');
      expect(decodedHistoryText(f.text), f.file).toContain('soft-concurrency-mode');
      expect(messages(f.history), f.file).toContain('update:resume');
      expect((result(f.history) as { phase?: string } | undefined)?.phase, f.file).toBe('completed');
    }

    // The health-before set (--only health-before): in each operation one account of three was already in
    // ALARM (unhealthy-before, the patch marker in its history), the two others changed; and a plan of it.
    const healthSet = fixtures.filter((f) => /^account\w+-health-/.test(f.file));
    const outcomesByType = new Map<string, string[]>();
    for (const f of healthSet) {
      expect(decodedHistoryText(f.text), f.file).toContain(HEALTH_CHECK_BEFORE_CHANGE);
      const type = workflowType(f.history) ?? '?';
      const outcome = (result(f.history) as { outcome?: string } | undefined)?.outcome ?? '?';
      outcomesByType.set(type, [...(outcomesByType.get(type) ?? []), outcome]);
    }
    expect([...outcomesByType.keys()].sort()).toEqual(['accountAmiRollout', 'accountSecretRotation', 'accountUpgrade']);
    for (const [type, outcomes] of outcomesByType)
      expect(outcomes.filter((o) => o === 'unhealthy-before').length, type).toBeGreaterThanOrEqual(1);
    expect(outcomesByType.get('accountUpgrade')).toContain('upgraded');
    expect(outcomesByType.get('accountSecretRotation')).toContain('rotated');
    expect(outcomesByType.get('accountAmiRollout')).toContain('rolled-out');
    // The lease set (--only lease): two overlapping upgrade campaigns on the same two accounts. Every child
    // took its account's lease (patch marker), some waited for the other campaign (accountLeaseWait), and
    // each account's lock workflow granted, released and completed.
    const leaseCampaigns = fixtures.filter((f) => f.file.startsWith('fleetCampaign-lease-'));
    expect(leaseCampaigns.length).toBeGreaterThanOrEqual(2);
    for (const f of leaseCampaigns) expect(decodedHistoryText(f.text), f.file).toContain(LEASE_WAIT_LIMIT);
    expect(leaseCampaigns.flatMap((f) => messages(f.history))).toContain('signal:accountLeaseWait');
    const leaseChildren = fixtures.filter((f) => f.file.startsWith('accountUpgrade-lease-'));
    expect(leaseChildren.length).toBeGreaterThanOrEqual(4);
    for (const f of leaseChildren) expect(decodedHistoryText(f.text), f.file).toContain(ACCOUNT_LEASE);
    const locks = ofType('accountLease');
    expect(locks.length).toBeGreaterThanOrEqual(2);
    for (const f of locks) {
      expect(messages(f.history), f.file).toEqual(
        expect.arrayContaining(['signal:acquireLease', 'signal:releaseLease']),
      );
      expect(has(f.history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), f.file).toBe(true);
    }

    // The rotation-revert set (--only rotation-revert): two accounts' secret rotated, then reverted: each revert
    // child got `rotation.revert` (the versions from the rotation's result) and put AWSCURRENT back.
    const rotationReverts = fixtures.filter((f) => /^accountSecretRotation-rotation-revert-\d/.test(f.file));
    expect(rotationReverts.length).toBeGreaterThanOrEqual(2);
    for (const f of rotationReverts) {
      expect(decodedHistoryText(f.text), f.file).toContain('"fromVersionId"');
      const r = result(f.history) as { outcome?: string; reason?: string } | undefined;
      expect(r?.outcome, f.file).toBe('rotated');
      expect(r?.reason, f.file).toContain('reverted, AWSCURRENT from version');
    }

    const inventories = ofType('fleetInventory').map((f) => f.history);
    expect(inventories.length).toBeGreaterThanOrEqual(1);
    expect(inventories.some((h) => has(h, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW))).toBe(true);
    // The drift set (--only inventory-drift): a drift inventory through continue-as-new (drifted accounts in
    // the carry), its report with version and secret-age drift; scanned for secrets like every fixture.
    const drift = ofType('fleetInventory').filter((f) => f.file.startsWith('fleetInventory-drift'));
    expect(drift.length).toBeGreaterThanOrEqual(2);
    for (const f of drift) expect(decodedHistoryText(f.text), f.file).toContain('"drift":true');
    expect(drift.some((f) => has(f.history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW))).toBe(true);
    const driftReports = drift
      .map((f) => result(f.history) as { drift?: { byKind: Record<string, number> } } | undefined)
      .filter((r) => r?.drift);
    expect(driftReports).toHaveLength(1);
    expect(driftReports[0]?.drift?.byKind.version).toBeGreaterThanOrEqual(1);
    expect(driftReports[0]?.drift?.byKind['secret-age']).toBeGreaterThanOrEqual(1);
  });

  it('carry no credential, session token or ExternalId', () => {
    for (const f of fixtures)
      expect(secretsIn(decodedHistoryText(f.text), [], manifest[f.file]?.allowedKeyIds), f.file).toEqual([]);
    // the scan reads decoded payloads
    expect(fixtures.map((f) => decodedHistoryText(f.text)).join('\n')).toContain('"targetVersion":"1.1.0"');
  });

  it('replay against the current workflow code without a nondeterminism error', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: bundle, replayName: 'history-replay-test' },
      fixtures.map((f) => ({ workflowId: f.workflowId, history: f.history })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of results) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId} (${r.runId}): ${r.error.name}: ${r.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(fixtures.length);
  }, 120_000);
});
