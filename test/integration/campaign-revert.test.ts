import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { seedLocalStack } from '../../cli/sim/seed-local-stack';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import { stringifyFleet } from '../../fleet/load-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { FleetCampaignInput } from '../../workflows/campaign/campaign-input';
import { cancelUpdate, statusQuery, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { cleanUp } from '../support/cleanup';
import { executions, startTestWorker, testClient, testStack, type ExecutionLedgerEntry } from '../support/test-stack';
import { fleetopsCli, runbookCommands } from '../support/fleetops-cli';

// `fleetops campaign revert` on the local stack: an upgrade campaign over a small fleet where some
// accounts are not changed (already current, paused in the fleet file, not selected), then its revert:
// every changed account back on the version it ran before (read from moto), the others untouched.
// Also the downgrade guard: an upgrade to an older version than an account runs is refused.
const cfg = testStack();
const TASK_QUEUE = 'campaign-revert-test';
/** 8 accounts; account 4 has two regions (eu-west-1, us-east-1). */
const fleet: FleetAccount[] = simulatedFleet(8, { idBase: 630_000_000_000 }).map((a, i) =>
  i === 6 ? { ...a, state: 'paused' } : a,
);
const ids = fleet.map((a) => a.id);
let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  await seedLocalStack(cfg, fleet);
  fleetFile = path.join(cfg.stateDir, 'revert-fleet.yaml');
  fs.writeFileSync(fleetFile, stringifyFleet(fleet));
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
}, 120_000);

afterAll(() => cleanUp({ worker: () => worker?.stop(), temporal: () => temporal?.close() }));

/** Runs `fleetops …` as an operator would (never throws). */
const fleetops = fleetopsCli(TASK_QUEUE);

const upgrade = (workflowId: string, version: string, accountIds: string[], extra: Partial<FleetCampaignInput> = {}) =>
  temporal.client.workflow.start('fleetCampaign', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [
      {
        operation: 'upgrade',
        fleetFile,
        maxInFlight: 10,
        failureBudget: { maxFailurePercent: 100 },
        select: { ids: accountIds, includeStates: ['active', 'paused'] },
        upgrade: { targetVersion: version, healthBakeSeconds: 0 },
        ...extra,
      } as FleetCampaignInput,
    ],
  });

/** `account/region` → the version its pipeline stack runs, read from moto (paused accounts too). */
async function versions(): Promise<Record<string, string | null>> {
  const report: FleetInventoryReport = await temporal.client.workflow.execute('fleetInventory', {
    taskQueue: TASK_QUEUE,
    workflowId: `revert-inventory-${Date.now()}`,
    args: [{ fleetFile, maxInFlight: 10, select: { ids, includeStates: ['active', 'paused'] } }],
  });
  expect(report.failed).toBe(0);
  const out: Record<string, string | null> = {};
  for (const a of report.accounts)
    for (const s of a.stacks) out[`${a.accountId}/${s.region}`] = s.found ? s.version : null;
  return out;
}

const t0 = Date.now();
const step = (what: string) =>
  process.stderr.write(`[revert-test +${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

const key = (e: ExecutionLedgerEntry) => `${e.account}/${e.region}/${e.changeSetName}`;

describe('fleetops campaign revert (local stack)', () => {
  it('takes back every account a campaign changed, region by region, and leaves the others alone', async () => {
    step('// Before the bad campaign');
    // Before the bad campaign: accounts 0-2 at 1.0.5, 3-4 at 1.0.1, account 5 already at 1.2.0, 6-7 at 1.0.0
    // as seeded. (moto finds "no changes" in a change set back to the version a stack was created with,
    // so the accounts the revert takes back are first moved off it.)
    const setup = [
      await upgrade('revert-setup-a', '1.0.5', ids.slice(0, 3)),
      await upgrade('revert-setup-b', '1.0.1', ids.slice(3, 5)),
      await upgrade('revert-setup-c', '1.2.0', [ids[5]]),
    ];
    for (const h of setup) expect(((await h.result()) as CampaignReport).counts.upgraded).toBeGreaterThan(0);
    const before = await versions();
    expect(Object.keys(before)).toHaveLength(9);

    step('// The bad campaign');
    // The bad campaign: 1.2.0 over accounts 0-6 (7 not selected; 6 paused in the fleet file, 5 already there).
    const bad = (await (
      await upgrade('revert-bad', '1.2.0', ids.slice(0, 7), { select: { ids: ids.slice(0, 7) } })
    ).result()) as CampaignReport;
    expect(bad.counts).toMatchObject({ upgraded: 5, 'already-current': 1 });
    expect(bad.notSelected.map((n) => n.id)).toEqual([ids[6]]);

    step('// The guard');
    // The guard: an ordinary upgrade to an older version than account 0 runs is refused, nothing changes.
    const down = (await (await upgrade('revert-downgrade', '1.1.0', [ids[0]])).result()) as CampaignReport;
    expect(down.counts.skipped).toBe(1);
    expect(down.problems[0]).toMatchObject({ accountId: ids[0], state: 'skipped', errorType: 'DowngradeRefused' });
    expect(down.problems[0].reason).toContain('runs 1.2.0, newer than the target 1.1.0');
    expect((await versions())[`${ids[0]}/eu-west-1`]).toBe('1.2.0');

    step('// Refusals name');
    // Refusals name the problem.
    const unknown = await fleetops('campaign', 'revert', 'no-such-campaign');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no campaign "no-such-campaign"');
    const nothing = await fleetops('campaign', 'revert', 'revert-downgrade');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('campaign "revert-downgrade" changed no account (skipped 1)');
    const gated = await upgrade('revert-running', '1.3.0', [ids[7]], { approvalBefore: 'all' });
    const running = await fleetops('campaign', 'revert', 'revert-running');
    expect(running.code).toBe(1);
    expect(running.stderr).toContain('campaign "revert-running" is still running');
    await gated.executeUpdate(cancelUpdate, { args: [{ reason: 'test' }] });

    step('// The runbook');
    // docs/runbooks/revert-a-campaign.md: its commands, as an operator runs them (the first revert only
    // shows the plan and starts nothing; the second starts it; the last watches it to completion).
    const lines = runbookCommands('revert-a-campaign.md');
    expect(lines).toHaveLength(4);
    const ledgerBefore = new Set((await executions(cfg)).map(key));
    const handle = temporal.client.workflow.getHandle('revert-undo');
    const watching = setInterval(() => {
      void handle
        .query(statusQuery)
        .then((s) => step(`revert-undo ${s.phase} ${JSON.stringify(s.counts)} ${s.phaseReason ?? ''}`))
        .catch(() => undefined);
    }, 10_000);
    const outputs: string[] = [];
    const started = Date.now();
    try {
      for (const line of lines) {
        const words = line
          .slice('npx fleetops '.length)
          .split(/\s+/)
          .map((w) => w.replace('<campaign-id>', 'revert-bad').replace('<revert-id>', 'revert-undo'));
        const r = await fleetops(...words);
        expect(r.code, `${line}\n${r.stderr}`).toBe(0);
        outputs.push(r.stdout);
        if (outputs.length === 2)
          expect(await handle.describe().catch(() => undefined), 'started without --yes').toBeUndefined();
      }
    } finally {
      clearInterval(watching);
    }
    const preview = outputs[1];
    expect(preview).toContain('revert of campaign revert-bad (upgrade): 5 account(s) go back');
    expect(preview).toContain('eu-west-1 → 1.0.5: 3');
    expect(preview).toContain('eu-west-1 → 1.0.1, us-east-1 → 1.0.1: 1');
    expect(preview).toMatch(new RegExp(`left alone \\(2\\)[\\s\\S]*${ids[5]} already-current`));
    expect(preview).toContain(`${ids[6]} not-selected`);
    expect(preview).toContain('nothing started');
    expect(outputs[3]).toContain('revert of revert-bad: left alone 2 (already-current 1, not-selected 1)');
    const report = (await handle.result()) as CampaignStatus;
    expect(report).toMatchObject({ phase: 'completed', revertOf: 'revert-bad', allowDowngrade: true, total: 5 });
    expect(report.counts).toEqual({ upgraded: 5 });
    expect(report.maxInFlight).toBe(2);
    expect(report.leftAlone?.map((l) => [l.accountId, l.state]).sort()).toEqual(
      [
        [ids[5], 'already-current'],
        [ids[6], 'not-selected'],
      ].sort(),
    );
    process.stderr.write(`[revert] 5 accounts reverted in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

    step('// Read from moto');
    // Read from moto: every changed account is back where it was, the others untouched.
    expect(await versions()).toEqual(before);
    // Only the changed accounts' stacks executed a change set in the revert, each region once, to its old version.
    const revertRuns = (await executions(cfg)).filter((e) => !ledgerBefore.has(key(e)));
    expect(revertRuns.map((e) => [e.account, e.region, e.version, e.count]).sort()).toEqual(
      [
        [ids[0], 'eu-west-1', '1.0.5', 1],
        [ids[1], 'eu-west-1', '1.0.5', 1],
        [ids[2], 'eu-west-1', '1.0.5', 1],
        [ids[3], 'eu-west-1', '1.0.1', 1],
        [ids[4], 'eu-west-1', '1.0.1', 1],
        [ids[4], 'us-east-1', '1.0.1', 1],
      ].sort(),
    );
  }, 400_000);
});
