/**
 * The campaign engine at fleet scale, on paper and in simulation (issue 11 item 9):
 * `npm run bench:engine -- [N=40000] [MAX_IN_FLIGHT=500]`.
 *
 * Runs the real fleetCampaign over N simulated accounts (every one with a maintenance window, 1 in 100
 * failing, so windows and problems are carried too) on its own Temporal dev server (the same
 * `temporal server start-dev` as the local stack, in memory, on a free loopback port) with a stand-in
 * per-account child that returns at once (bench/engine-40k-workflows.ts: no AWS, no activity). Not the
 * time-skipping test server: under load it records a child's completion before its start in the
 * parent's history (seen at ~6,000 accounts: ChildWorkflowExecutionCompleted at event 2195, its
 * ChildWorkflowExecutionStarted at 2220), and the parent's next replay then fails for ever. Then walks every
 * run's history and prints the largest payload of each kind — campaign input, carried state
 * (continue-as-new input), activity results (the plan), the result — plus the largest `status` query
 * answer seen while it ran and the memo, against Temporal's 2 MB limit and this project's 1 MB target.
 * Exits non-zero if any is 1 MB or more.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createCampaignActivities } from '../activities/campaign/campaign-activities';
import { simulatedFleet } from '../cli/sim/simulated-fleet';
import { stringifyFleet } from '../fleet/load-fleet';
import type { MaintenanceWindow } from '../fleet/fleet-schema';
import type { FleetCampaignInput } from '../workflows/campaign/campaign-input';
import { statusQuery } from '../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../workflows/campaign/fleet-campaign';
import { localDevServerEnv } from '../test/support/local-dev-server';
import { cleanUp } from '../test/support/cleanup';
import { collectPayloadSizes, formatBytes, type LargestPayloads } from './payload-sizes';

const MB = 1024 * 1024;
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
const WINDOWS: MaintenanceWindow[] = [
  { days: ['tue', 'wed'], start: '22:00', durationMinutes: 240, timezone: 'Europe/Berlin' },
  { days: ['sat'], start: '02:00', durationMinutes: 180, timezone: 'America/New_York' },
  { days: ['mon', 'thu'], start: '01:30', durationMinutes: 120, timezone: 'Asia/Tokyo' },
];

async function main(): Promise<void> {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const n = Number(positional[0] ?? 40_000);
  const maxInFlight = Number(positional[1] ?? 500);
  if (!Number.isInteger(n) || n < 1) throw new Error(`N: expected a positive number of accounts, got ${positional[0]}`);
  // Under load the SDK warns about every slow workflow task; the bench prints its own progress.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-engine-40k-'));
  const fleetFile = path.join(dir, 'fleet.yaml');
  const fleet = simulatedFleet(n, { secrets: false, images: false }).map((a, i) => ({
    ...a,
    maintenanceWindow: structuredClone(WINDOWS[i % WINDOWS.length]), // a copy: YAML would alias one object
  }));
  fs.writeFileSync(fleetFile, stringifyFleet(fleet));
  const failing = fleet.filter((a) => Number(a.id.slice(-2)) === 50).length;
  console.log(`fleet file: ${n} accounts, each with a maintenance window, ${failing} failing`);

  const env = await localDevServerEnv();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./engine-40k-workflows'),
    logger: quiet,
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'engine-40k',
    workflowBundle,
    // Workflow tasks run on one thread (reuseV8Context): tasks polled beyond what it clears in a few
    // seconds only wait, and a campaign task that waits past its timeout is lost and replayed (at 6,000
    // accounts with 100, dozens of "Workflow task not found"); 10 keeps the wait well under a second.
    maxConcurrentWorkflowTaskExecutions: 10,
    maxCachedWorkflows: 2000,
    activities: createCampaignActivities({ fleetDirs: [dir] }),
  });
  const running = worker.run();
  try {
    const input: FleetCampaignInput = {
      operation: 'upgrade',
      fleetFile,
      upgrade: { targetVersion: '1.1.0' },
      maxInFlight,
      maxWaveSize: 5000,
      failureBudget: { maxFailurePercent: 5 },
      respectMaintenanceWindows: false,
      accountsPerRun: 1000,
    };
    const startedAt = Date.now();
    const handle = await env.client.workflow.start('fleetCampaign', {
      taskQueue: 'engine-40k',
      workflowId: `engine-40k-${n}-${Date.now()}`,
      // one of the campaign's tasks may start hundreds of children; on a loaded 2-core host it may
      // take longer than the default 10 s (every run after continue-as-new inherits this)
      workflowTaskTimeout: '1 minute',
      args: [input],
    });
    let largestQuery = 0;
    let largestCarry = 0;
    let done = false;
    let seenRun = handle.firstExecutionRunId;
    const poll = (async () => {
      while (!done) {
        await new Promise((r) => setTimeout(r, 20_000));
        if (done) break;
        try {
          const s = await handle.query(statusQuery);
          const queryBytes = Buffer.byteLength(JSON.stringify(s));
          largestQuery = Math.max(largestQuery, queryBytes);
          const finished = n - (s.counts.pending ?? 0) - (s.counts.running ?? 0);
          const runId = (await handle.describe()).runId;
          if (runId !== seenRun) {
            largestCarry = Math.max(largestCarry, await carriedBytes(env.client, handle.workflowId, runId));
            seenRun = runId;
          }
          const at = ((Date.now() - startedAt) / 1000).toFixed(0);
          console.log(
            `  ${at} s: run ${s.run}, ${finished}/${n} finished, phase ${s.phase}; status ${queryBytes} B, largest carry so far ${largestCarry} B`,
          );
        } catch {
          // between runs (continue-as-new) a query may find no open run: the next poll asks again
        }
      }
    })();
    const report = (await handle.result()) as CampaignReport;
    done = true;
    await poll;
    const seconds = (Date.now() - startedAt) / 1000;
    largestQuery = Math.max(largestQuery, Buffer.byteLength(JSON.stringify(await handle.query(statusQuery))));

    const largest: LargestPayloads = new Map();
    let runs = 0;
    let firstInput = 0;
    let longest = 0;
    let runId: string | undefined = handle.firstExecutionRunId;
    while (runId) {
      runs++;
      const history: temporal.api.history.v1.IHistory = await env.client.workflow
        .getHandle(handle.workflowId, runId)
        .fetchHistory();
      const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
      longest = Math.max(longest, events.length);
      collectPayloadSizes(events, `run ${runs}`, largest);
      if (runs === 1)
        firstInput = (events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []).reduce(
          (k, p) => k + (p.data?.length ?? 0),
          0,
        );
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    const memo = (await handle.describe()).raw.workflowExecutionInfo?.memo?.fields ?? {};
    const memoBytes = Object.values(memo).reduce((k, p) => k + (p?.data?.length ?? 0), 0);

    console.log(
      `\nengine ${n} accounts: phase ${report.phase}, upgraded ${report.counts.upgraded ?? 0}, failed ${report.counts.failed ?? 0}, problems ${report.problems.length}`,
    );
    console.log(
      `wall time ${seconds.toFixed(1)} s (${((n / seconds) * 60).toFixed(0)} accounts/min); ${runs} runs; longest history ${longest} events`,
    );
    const rows: Array<[string, number]> = [
      ['campaign input (first run)', firstInput],
      ['carried state (continue-as-new input)', largest.get('workflowExecutionContinuedAsNew.input')?.bytes ?? 0],
      ['activity result (largest: the plan)', largest.get('activityTaskCompleted.result')?.bytes ?? 0],
      ['status query answer (largest seen)', largestQuery],
      ['final result (report)', largest.get('workflowExecutionCompleted.result')?.bytes ?? 0],
      ['child input (largest)', largest.get('startChildWorkflowExecutionInitiated.input')?.bytes ?? 0],
      ['memo', memoBytes],
    ];
    console.log('\nlargest payloads (Temporal limit 2 MiB, target < 1 MiB):');
    for (const [what, bytes] of rows)
      console.log(`  ${what.padEnd(40)} ${formatBytes(bytes)}${bytes >= MB ? '  OVER 1 MiB' : ''}`);
    console.log('\nevery payload kind in the histories, largest first:');
    for (const [field, { bytes, where }] of [...largest].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12))
      console.log(`  ${field.padEnd(60)} ${formatBytes(bytes)}  (${where})`);
    const over = rows
      .filter(([, b]) => b >= MB)
      .concat([...largest].filter(([, v]) => v.bytes >= MB).map(([k, v]) => [k, v.bytes]));
    if (report.phase !== 'completed') throw new Error(`the campaign ended ${report.phase}, expected completed`);
    if (over.length) throw new Error(`payloads of 1 MiB or more: ${over.map(([k]) => k).join(', ')}`);
  } finally {
    await cleanUp({
      worker: async () => {
        worker.shutdown();
        await running;
      },
      env: () => env.teardown(),
      dir: () => fs.rmSync(dir, { recursive: true, force: true }),
    });
  }
}

/** Size of the carried state a run started with (its input payload). */
async function carriedBytes(client: Client, workflowId: string, runId: string): Promise<number> {
  const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  return payloads.reduce((k, p) => k + (p.data?.length ?? 0), 0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
