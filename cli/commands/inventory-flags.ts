/**
 * The flags of `inventory` (fleet, selection, window), their parsing and the checks made before an
 * inventory starts: shared by `inventory`, `campaign start` (selection) and `schedule create … --
 * inventory …`. Light to load (no Temporal client), so `fleetops --help` stays fast.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadFleetFile } from '../../fleet/load-fleet';
import { AccountSelectorSchema, selectAccounts, type AccountSelector } from '../../fleet/select-accounts';
import type { FleetInventoryInput } from '../../workflows/fleet-inventory';

export type InventoryCliOptions = {
  fleet: string;
  accounts?: string[];
  rings?: string[];
  tags?: string[];
  regions?: string[];
  maxInFlight?: number;
  /** compare each account with the fleet file (version, images, secret ages) */
  drift?: boolean;
  maxSecretAgeDays?: number;
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

const positiveDays = (flag: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 36_500)
    throw new InvalidArgumentError(`${flag} expects a number of days > 0 and ≤ 36500 (fractions allowed), got "${v}"`);
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
    .option('--max-in-flight <n>', 'accounts inspected at once', wholeNumber('--max-in-flight'))
    .option('--drift', 'also compare each account with the fleet file: stack version, images, secret ages')
    .option(
      '--max-secret-age-days <days>',
      'with --drift: a secret older than this is drift (default 90)',
      positiveDays('--max-secret-age-days'),
    );
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
  if (o.maxSecretAgeDays !== undefined && !o.drift)
    throw new Error('--max-secret-age-days: only with --drift (the secret age limit of a drift inventory)');
  const input: FleetInventoryInput = {
    fleetFile,
    select,
    ...(o.maxInFlight ? { maxInFlight: o.maxInFlight } : {}),
    ...(o.drift ? { drift: true } : {}),
    ...(o.maxSecretAgeDays !== undefined ? { maxSecretAgeDays: o.maxSecretAgeDays } : {}),
  };
  return { input, preview };
}
