/** `fleetops fleet validate <file> [--json]`: checks a fleet file and lists every problem. */
import { RINGS, type FleetAccount } from '../../fleet/fleet-schema';
import { formatFleetProblems, type FleetProblem } from '../../fleet/fleet-problems';
import { readFleetFile, UnreadableFleetFile } from '../../fleet/load-fleet';

export type FleetValidateOutput = { write(text: string): unknown };

/** Exit code: 0 valid, 1 problems, 2 file unreadable. */
export function runFleetValidate(
  file: string,
  opts: { json?: boolean },
  out: FleetValidateOutput = process.stdout,
): number {
  let accounts: FleetAccount[] = [];
  let problems: FleetProblem[] = [];
  let code: number;
  try {
    const result = readFleetFile(file);
    if (result.ok) accounts = result.accounts;
    else problems = result.problems;
    code = result.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof UnreadableFleetFile)) throw error;
    problems = [{ path: '', message: error.message }];
    code = 2;
  }

  if (opts.json) {
    out.write(`${JSON.stringify({ ok: code === 0, accounts, problems }, null, 2)}\n`);
  } else if (code === 0) {
    out.write(`✔ ${file}: ${accounts.length} accounts valid (${summarize(accounts)})\n`);
  } else if (code === 2) {
    out.write(`✖ ${problems[0].message}\n`);
  } else {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    out.write(`${formatFleetProblems(file, problems)}\n✖ ${file}: ${count}\n`);
  }
  return code;
}

/** `canary 40, early 400, general 3000, late 560` plus `; 3 paused, 1 quarantined` when any. */
function summarize(accounts: readonly FleetAccount[]): string {
  const count = (pred: (a: FleetAccount) => boolean) => accounts.filter(pred).length;
  const rings = RINGS.map((ring) => `${ring} ${count((a) => a.ring === ring)}`).join(', ');
  const paused = count((a) => a.state === 'paused');
  const quarantined = count((a) => a.state === 'quarantined');
  const states = [paused ? `${paused} paused` : '', quarantined ? `${quarantined} quarantined` : ''].filter(Boolean);
  return states.length > 0 ? `${rings}; ${states.join(', ')}` : rings;
}
