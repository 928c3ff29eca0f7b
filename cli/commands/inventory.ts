import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { loadFleetFile } from '../../fleet/load-fleet';
import { AccountSelectorSchema, selectAccounts, type AccountSelector } from '../../fleet/select-accounts';
import {
  fleetInventory,
  inventoryProgressQuery,
  type FleetInventoryInput,
  type FleetInventoryReport,
} from '../../workflows/fleet-inventory';
import { ProgressBar, formatSeconds } from '../progress-bar';
import { connectTemporalClient, TASK_QUEUE, workflowUiUrl } from '../temporal-client';

export type InventoryCliOptions = {
  fleet: string;
  accounts?: string[];
  rings?: string[];
  tags?: string[];
  regions?: string[];
  maxInFlight?: number;
  workflowId?: string;
  json?: boolean;
  detach?: boolean;
  quiet?: boolean;
  /** print nothing (the caller reads the returned report) */
  silent?: boolean;
};

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const collect = (v: string, acc: string[] = []) => [...acc, v];
const wholeNumber = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a whole number ≥ 1, got "${v}"`);
  return n;
};

/**
 * The options that say what an inventory reads (fleet, selection, window): `inventory` and
 * `schedule create … -- inventory …` parse them alike.
 */
export function addInventoryOptions(cmd: Command): Command {
  return cmd
    .option('--fleet <file>', 'fleet file', process.env.FLEETOPS_FLEET_FILE ?? '.fleetops/fleet.yaml')
    .option('--accounts <ids>', 'comma-separated account ids', list)
    .option('--rings <rings>', 'comma-separated rings (canary, early, general, late)', list)
    .option('--tag <key=value>', 'only accounts with this tag (repeatable)', collect)
    .option('--regions <regions>', 'accounts in any of these regions', list)
    .option('--max-in-flight <n>', 'accounts inspected at once', wholeNumber('--max-in-flight'));
}

/** Builds the account selector from CLI flags; a bad flag is an error that names it. */
export function selectorFromFlags(
  o: Pick<InventoryCliOptions, 'accounts' | 'rings' | 'tags' | 'regions'>,
): AccountSelector {
  const tags: Record<string, string> = {};
  for (const t of o.tags ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`--tag ${t}: expected KEY=VALUE`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const raw = {
    ids: o.accounts,
    rings: o.rings,
    tags: Object.keys(tags).length ? tags : undefined,
    regions: o.regions,
  };
  const parsed = AccountSelectorSchema.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    const flag: Record<string, string> = { ids: '--accounts', rings: '--rings', tags: '--tag', regions: '--regions' };
    const problems = parsed.error.issues.map((i) => {
      const [field, index] = i.path;
      const value =
        typeof index === 'number'
          ? ` "${String((raw as Record<string, unknown[] | undefined>)[String(field)]?.[index])}"`
          : '';
      return `${flag[String(field)] ?? String(field)}${value}: ${i.message}`;
    });
    throw new Error(`invalid selection: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Everything `inventory` checks before it starts anything (the fleet file is read and validated, the
 * selection must match an active account); returns the workflow input.
 */
export function checkInventoryStart(o: InventoryCliOptions): {
  input: FleetInventoryInput;
  preview: ReturnType<typeof selectAccounts>;
} {
  const fleetFile = path.resolve(o.fleet);
  const accounts = loadFleetFile(fleetFile);
  const select = selectorFromFlags(o);
  const preview = selectAccounts(accounts, select);
  if (preview.unknownIds.length) throw new Error(`not in ${o.fleet}: ${preview.unknownIds.join(', ')}`);
  if (preview.selected.length === 0) throw new Error(`the selection matches no active account in ${o.fleet}`);
  const input: FleetInventoryInput = { fleetFile, select, ...(o.maxInFlight ? { maxInFlight: o.maxInFlight } : {}) };
  return { input, preview };
}

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
      `started inventory ${workflowId} over ${preview.selected.length} accounts${ui ? `\n  Temporal UI: ${workflowUiUrl(ui, namespace, workflowId)}` : ''}`,
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
  return `${lines.join('\n')}\n`;
}
