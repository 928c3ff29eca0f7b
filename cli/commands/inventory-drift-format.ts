/**
 * How `fleetops inventory --drift` shows drift (drifted accounts grouped by kind) and the exit status
 * of `inventory`: 1 when an account could not be read, else 2 when drift was found, else 0.
 */
import { DRIFT_KINDS, type DriftItem } from '../../fleet/inventory-drift';
import type { DriftReport, FleetInventoryReport } from '../../workflows/fleet-inventory';

/** Exit status of `inventory`: 1 some account could not be read; 2 drift found (all read); 0 otherwise. */
export const INVENTORY_EXIT = { ok: 0, failures: 1, drift: 2 } as const;

export function inventoryExitCode(report: FleetInventoryReport | undefined): number {
  if (!report) return INVENTORY_EXIT.ok; // --detach
  if (report.failed > 0) return INVENTORY_EXIT.failures;
  if ((report.drift?.driftedAccounts ?? 0) > 0) return INVENTORY_EXIT.drift;
  return INVENTORY_EXIT.ok;
}

const where = (i: DriftItem) => `${i.region ? `${i.region} ` : ''}${i.subject}`;

/** The drift section as text: a summary line, then per kind each drifted account and its items. */
export function formatDriftReport(d: DriftReport): string {
  const counts = DRIFT_KINDS.filter((k) => d.byKind[k] > 0).map((k) => `${k} × ${d.byKind[k]}`);
  const lines = [
    `Drift: ${d.driftedAccounts} of ${d.checkedAccounts} accounts drifted${counts.length ? ` (${counts.join(', ')})` : ''}; secret age limit ${d.maxSecretAgeDays} d`,
  ];
  for (const kind of DRIFT_KINDS) {
    const accounts = d.accounts.filter((a) => a.kinds.includes(kind));
    if (accounts.length === 0) continue;
    lines.push(`  ${kind} (${accounts.length} account${accounts.length > 1 ? 's' : ''}):`);
    for (const a of accounts) {
      const items = a.items.filter((i) => i.kind === kind);
      for (const i of items) lines.push(`    ${a.accountId} ${where(i)}: expected ${i.expected}, actual ${i.actual}`);
      if (items.length === 0 || a.omitted) lines.push(`    ${a.accountId}: ${a.omitted ?? 0} more item(s) not listed`);
    }
  }
  if (d.unlisted) lines.push(`  … ${d.unlisted} more drifted account(s) counted above but not listed`);
  return `${lines.join('\n')}\n`;
}
