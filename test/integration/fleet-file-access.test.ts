import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSimSeed } from '../../cli/commands/sim-seed';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { decodedHistoryText } from '../support/history-scan';
import { startTestWorker, testClient, testStack } from '../support/test-stack';

// The security boundary on the real local stack: a workflow input's fleetFile is whatever a Temporal UI
// user typed; the worker (fleet location = the stack's state folder, as with `worker --local`) must
// refuse everything outside it, and nothing of those files may reach workflow history.
const cfg = testStack();
const TASK_QUEUE = 'fleet-access-test';
const SECRET = `hunter2-db-password-S3cr3t-${process.pid}-${Date.now()}`;
const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-planted-'));
const secretFile = path.join(secretDir, 'db_password');
const leakLink = path.join(cfg.stateDir, 'fleet-access-leak.yaml');
const environHead = fs.readFileSync('/proc/self/environ', 'utf8').slice(0, 60); // this process runs the worker
let fleetFile: string;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;
const started: string[] = [];

const refused: Array<[string, string]> = [
  ['planted secret outside the fleet location', secretFile],
  ['/proc/self/environ', '/proc/self/environ'],
  ['/etc/passwd', '/etc/passwd'],
  ['.. traversal', `${cfg.stateDir}/../../../../../../etc/passwd`],
  ['symlink in the fleet location pointing out', leakLink],
];

beforeAll(async () => {
  fs.writeFileSync(secretFile, `${SECRET}\n`);
  fs.rmSync(leakLink, { force: true });
  fs.symlinkSync(secretFile, leakLink);
  ({ file: fleetFile } = await runSimSeed({
    accounts: 3,
    idBase: 700_000_000_000,
    out: path.join(cfg.stateDir, 'fleet-access-fleet.yaml'),
    quiet: true,
  }));
  worker = await startTestWorker(TASK_QUEUE); // FLEETOPS_FLEET_DIRS left to the local default
  temporal = await testClient(cfg);
});

afterAll(async () => {
  await worker?.stop();
  await temporal?.close();
  fs.rmSync(leakLink, { force: true });
  fs.rmSync(secretDir, { recursive: true, force: true });
});

function run(workflowType: string, workflowId: string, input: Record<string, unknown>): Promise<unknown> {
  started.push(workflowId);
  return temporal.client.workflow.execute(workflowType, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
}

/** The ApplicationFailure types along the failure's cause chain (workflow → activity → application). */
function failureTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e = err as { cause?: unknown; type?: unknown } | undefined; e; e = e.cause as typeof e)
    if (typeof e.type === 'string') types.push(e.type);
  return types;
}

const stamp = Date.now();

describe('fleet files only from the configured fleet locations (local stack)', () => {
  it('a fleet file inside the location works (the worker defaults to the state folder)', async () => {
    expect(worker.fleet.activities).toBeDefined();
    const report = (await run('fleetInventory', `fleet-access-ok-${stamp}`, { fleetFile })) as FleetInventoryReport;
    expect(report.total).toBe(3);
    expect(report.succeeded).toBe(3);
  });

  for (const [what, file] of refused) {
    it(`fleetInventory and fleetCampaign refuse ${what} with FleetFileNotAllowed`, async () => {
      const slug = what.replace(/[^a-z]+/gi, '-');
      const inventory = await run('fleetInventory', `fleet-access-inventory-${slug}-${stamp}`, {
        fleetFile: file,
      }).catch((e: unknown) => e);
      const campaign = await run('fleetCampaign', `fleet-access-campaign-${slug}-${stamp}`, {
        operation: 'upgrade',
        fleetFile: file,
        upgrade: { targetVersion: '1.1.0' },
      }).catch((e: unknown) => e);
      for (const err of [inventory, campaign]) {
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect(failureTypes(err)).toContain('FleetFileNotAllowed');
        const message = (err as Error & { cause?: { cause?: Error } }).cause?.cause?.message ?? '';
        expect(message).toContain('configured fleet locations');
      }
    });
  }

  it('a single accountUpgrade started by hand with the planted file does not read it either', async () => {
    const result = await run('accountUpgrade', `fleet-access-account-${stamp}`, {
      campaignId: `fleet-access-${stamp}`,
      operation: 'upgrade',
      fleetFile: secretFile,
      accountId: '700000000000',
      upgrade: { targetVersion: '1.1.0' },
    }).catch((e: unknown) => e);
    expect(JSON.stringify(result) + String(result)).toContain('FleetFileNotAllowed');
  });

  it('no history of those workflows holds the planted secret, /etc/passwd or the environment', async () => {
    expect(started.length).toBe(2 * refused.length + 2);
    expect(environHead.length).toBeGreaterThan(20);
    let scanned = '';
    for (const workflowId of started) {
      const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
      const text = decodedHistoryText(JSON.stringify(history));
      expect(text.includes(SECRET), `planted secret in history of ${workflowId}`).toBe(false);
      expect(text.includes('hunter2'), `planted secret in history of ${workflowId}`).toBe(false);
      expect(text.includes('root:x:0:0'), `/etc/passwd in history of ${workflowId}`).toBe(false);
      expect(text.includes(environHead), `/proc/self/environ in history of ${workflowId}`).toBe(false);
      scanned += text;
    }
    // The scan sees decoded payloads and failure messages: the input paths and the refusals are there.
    expect(scanned).toContain(secretFile);
    expect(scanned).toContain('FleetFileNotAllowed');
    expect(worker.logLines.join('\n')).not.toContain(SECRET);
  });
});
