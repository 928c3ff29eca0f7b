import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { writeExternalId } from '../../cli/sim/seed-local-stack';
import { externalIdRef } from '../../cli/sim/simulated-fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { allWorkflowHistories, decodedHistoryText } from '../support/history-scan';
import { proxyStats, setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';
import { cleanUp } from '../support/cleanup';

const cfg = testStack();
const TASK_QUEUE = 'inventory-test';
let accounts: FleetAccount[];
let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;
const BAD_ACCOUNT = '200000000007';

beforeAll(async () => {
  ({ file: fleetFile } = await runSimSeed({
    accounts: 200,
    out: path.join(cfg.stateDir, 'inventory-fleet.yaml'),
    quiet: true,
  }));
  accounts = loadFleetFile(fleetFile);
  // One account's ExternalId in Vault no longer matches its role's trust policy.
  await writeExternalId(cfg, externalIdRef(BAD_ACCOUNT), 'rotated-but-not-applied');
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
});

afterAll(() =>
  cleanUp({
    faultPlan: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  }),
);

async function runInventory(workflowId: string, input: Record<string, unknown>): Promise<FleetInventoryReport> {
  return temporal.client.workflow.execute('fleetInventory', { taskQueue: TASK_QUEUE, workflowId, args: [input] });
}

describe('fleetInventory on the local stack', () => {
  it('reads 200 accounts correctly with 10% throttling injected; a wrong ExternalId is AccountAccessDenied, not retried', async () => {
    await setFaultPlan(cfg, {
      seed: 7,
      rules: [
        { service: 'sts', throttleRate: 0.1 },
        { service: 'cloudformation', throttleRate: 0.1 },
      ],
    });
    const before = await proxyStats(cfg);
    const report = await runInventory('inventory-200-throttled', { fleetFile, maxInFlight: 40 });
    const after = await proxyStats(cfg);

    expect(after.injected.throttle - before.injected.throttle).toBeGreaterThan(20);
    expect(report.total).toBe(200);
    expect(report.succeeded).toBe(199);
    expect(report.failures).toEqual([
      { accountId: BAD_ACCOUNT, errorType: 'AccountAccessDenied', reason: expect.stringContaining('AccessDenied') },
    ]);
    // Every other account: one entry per region of the account, stack found at 1.0.0.
    const byId = new Map(report.accounts.map((a) => [a.accountId, a]));
    for (const account of accounts.filter((a) => a.id !== BAD_ACCOUNT)) {
      const got = byId.get(account.id);
      expect(
        got?.stacks.map((s) => s.region),
        account.id,
      ).toEqual(account.regions);
      for (const s of got!.stacks)
        expect(s).toMatchObject({ found: true, status: 'CREATE_COMPLETE', version: '1.0.0' });
    }
    // Not retried forever: the denied account's AssumeRole went out once per activity attempt only.
    const denied = after.accessDenied - before.accessDenied;
    expect(denied).toBe(1);
  });

  it('continues as new with exact state: every account reported once across runs', async () => {
    await setFaultPlan(cfg, null);
    const report = await runInventory('inventory-continue-as-new', {
      fleetFile,
      accountsPerRun: 45,
      maxInFlight: 20,
      select: { rings: ['general'] },
    });
    const general = accounts.filter((a) => a.ring === 'general').map((a) => a.id);
    expect(report.runs).toBe(Math.ceil(general.length / 45));
    const reported = [...report.accounts.map((a) => a.accountId), ...report.failures.map((f) => f.accountId)];
    expect(reported.sort()).toEqual([...general].sort());
  });

  it('reports ids asked for that are not in the fleet', async () => {
    const report = await runInventory('inventory-selection', {
      fleetFile,
      select: { ids: [accounts[0].id, '999999999999'] },
    });
    expect(report.total).toBe(1);
    expect(report.unknownIds).toEqual(['999999999999']);
  });

  it('fails at once, non-retryably, on invalid input, naming each bad field', async () => {
    const err = await runInventory('inventory-bad-input', { fleetFile: '', maxInFlight: 0, surprise: true }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = (err as WorkflowFailedError).cause?.message ?? '';
    expect(message).toContain('fleetFile');
    expect(message).toContain('maxInFlight');
    expect(message).toContain('surprise');
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidWorkflowInput', nonRetryable: true });
  });

  it('runs from the CLI with a report (fleetops inventory)', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['bin/fleetops.js', 'inventory', '--fleet', fleetFile, '--rings', 'canary', '--json'],
      { env: { ...process.env, FLEETOPS_TASK_QUEUE: TASK_QUEUE }, cwd: path.resolve(__dirname, '../..') },
    );
    const report = JSON.parse(stdout) as FleetInventoryReport;
    expect(report.total).toBe(accounts.filter((a) => a.ring === 'canary').length);
    expect(report.succeeded).toBe(report.total);
    expect(stderr).toContain('inventory');
  });

  it('the CLI rejects a malformed account id or one not in the fleet before starting anything', async () => {
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['bin/fleetops.js', 'inventory', '--fleet', fleetFile, ...args], {
        env: { ...process.env, FLEETOPS_TASK_QUEUE: TASK_QUEUE },
        cwd: path.resolve(__dirname, '../..'),
      }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    const malformed = await cli('--accounts', '123');
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('--accounts "123": expected a 12-digit account id');
    const unknown = await cli('--accounts', `${accounts[1].id},999999999999`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('not in');
    expect(unknown.stderr).toContain('999999999999');
  });

  it('no credential or ExternalId value appears in any workflow history or log line', async () => {
    const credentials = worker.fleet.credentials as unknown as {
      cache: Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
    };
    const secrets: string[] = [];
    for (const c of credentials.cache.values()) secrets.push(c.accessKeyId, c.secretAccessKey, c.sessionToken);
    expect(secrets.length).toBeGreaterThan(100);
    for (const a of accounts.slice(0, 200)) {
      const res = await fetch(`${cfg.vaultAddr}/v1/${a.externalIdRef}`, {
        headers: { 'X-Vault-Token': cfg.vaultDevToken },
      });
      secrets.push(((await res.json()) as { data: { data: { externalId: string } } }).data.data.externalId);
    }
    // this file's workflows (the shared test stack holds every other file's too)
    const histories = await allWorkflowHistories(temporal.client, `TaskQueue = '${TASK_QUEUE}'`);
    expect(histories.length).toBeGreaterThanOrEqual(5);
    const logs = worker.logLines.join('\n');
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
    expect(histories.map((h) => decodedHistoryText(h.json)).join('\n')).toContain('"accountId":"200000000'); // the scan reads decoded payloads
    for (const h of histories) {
      const text = decodedHistoryText(h.json);
      for (const secret of secrets) {
        expect(text.includes(secret), `secret found in history of ${h.workflowId}`).toBe(false);
      }
      expect(text).not.toMatch(/ASIA[A-Z0-9]{16}/);
      expect(text).not.toMatch(/sessionToken|secretAccessKey/i);
    }
  });
});
