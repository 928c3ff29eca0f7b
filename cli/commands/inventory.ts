import { WorkflowFailedError } from '@temporalio/client';
import { fleetInventory, inventoryProgressQuery, type FleetInventoryReport } from '../../workflows/fleet-inventory';
import { ProgressBar, formatSeconds } from '../progress-bar';
import { connectTemporalClient, TASK_QUEUE, workflowUiUrl } from '../temporal-client';
import { formatDriftReport } from './inventory-drift-format';
import { checkInventoryStart, type InventoryCliOptions } from './inventory-flags';

export type { InventoryCliOptions } from './inventory-flags';

/**
 * `fleetops inventory`: starts the fleetInventory workflow, shows progress until it ends, prints the report.
 * The fleet file is validated and the selection checked here first, so mistakes fail before anything starts.
 */
export async function runInventory(o: InventoryCliOptions): Promise<FleetInventoryReport | undefined> {
  const { input, preview } = checkInventoryStart(o);

  const { client, namespace, close } = await connectTemporalClient();
  try {
    const workflowId =
      o.workflowId ??
      `inventory-${new Date()
        .toISOString()
        .replace(/[-:.TZ]/g, '')
        .slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;
    const handle = await client.workflow.start(fleetInventory, {
      taskQueue: TASK_QUEUE(),
      workflowId,
      args: [input],
    });
    const ui = process.env.FLEETOPS_TEMPORAL_UI_URL;
    const say = (line: string) => !o.quiet && process.stderr.write(`${line}\n`);
    say(
      `started ${input.drift ? 'drift inventory' : 'inventory'} ${workflowId} over ${preview.selected.length} accounts${ui ? `\n  Temporal UI: ${workflowUiUrl(ui, namespace, workflowId)}` : ''}`,
    );
    if (o.detach) return undefined;

    const bar = o.quiet ? undefined : new ProgressBar('inventory');
    // One progress query at a time; the last one is awaited before the connection closes (a query still
    // retrying on a closed connection would throw from its retry timer).
    let polling: Promise<void> | undefined;
    const poll = setInterval(() => {
      polling ??= handle
        .query(inventoryProgressQuery)
        .then((p) => bar?.update(p.done, p.total, `ok ${p.succeeded} failed ${p.failed} in flight ${p.inFlight}`))
        .catch(() => undefined) // between runs (continue-as-new) a query can miss; the next one answers
        .finally(() => (polling = undefined));
    }, 500);
    let report: FleetInventoryReport;
    try {
      report = await handle.result();
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        throw new Error(`inventory ${workflowId} failed: ${err.cause?.message ?? err.message}`);
      throw err;
    } finally {
      clearInterval(poll);
      await polling;
    }
    bar?.update(report.succeeded + report.failed, report.total, `ok ${report.succeeded} failed ${report.failed}`);
    bar?.finish();
    if (o.silent) return report;
    if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(formatInventoryReport(report));
    return report;
  } finally {
    await close();
  }
}

export function formatInventoryReport(r: FleetInventoryReport): string {
  const seconds = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
  const lines = [
    `Inventory of ${r.total} accounts in ${formatSeconds(seconds)} (${r.runs} workflow run${r.runs > 1 ? 's' : ''}): ${r.succeeded} read, ${r.failed} failed`,
    `  pipeline versions: ${
      Object.entries(r.byVersion)
        .map(([v, n]) => `${v} × ${n}`)
        .join(', ') || '—'
    }`,
    `  stack statuses:    ${
      Object.entries(r.byStackStatus)
        .map(([s, n]) => `${s} × ${n}`)
        .join(', ') || '—'
    }`,
  ];
  if (r.skipped.length) lines.push(`  skipped: ${r.skipped.map((s) => `${s.id} (${s.reason})`).join(', ')}`);
  for (const f of r.failures) lines.push(`  ✖ ${f.accountId} ${f.errorType}: ${f.reason}`);
  return `${lines.join('\n')}\n${r.drift ? formatDriftReport(r.drift) : ''}`;
}
