/**
 * CPU time of the local stack's processes (from their pid files and /proc) and of this test process
 * (where the test worker runs): on a loaded machine wall time says little, the CPU seconds a run used
 * say what it would need on an idle one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readProcessRecord } from '../../stack/processes';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) per process: `this-process` and each process with a pid file in `stateDir/pids`. */
export function cpuSeconds(stateDir: string): Record<string, number> {
  const own = process.cpuUsage();
  const out: Record<string, number> = { 'this-process': (own.user + own.system) / 1e6 };
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(stateDir, 'pids')).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const file of names) {
    const record = readProcessRecord(stateDir, file.slice(0, -'.json'.length));
    if (!record) continue;
    try {
      // fields after the command (which is in parentheses): state is field 3, utime 14, stime 15
      const stat = fs.readFileSync(`/proc/${record.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[record.name] = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // not running or no /proc: left out
    }
  }
  return out;
}

/** `after - before` per process, rounded to 0.1 s, plus the total. */
export function cpuSecondsSpent(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const spent: Record<string, number> = {};
  let total = 0;
  for (const [name, seconds] of Object.entries(after)) {
    const used = seconds - (before[name] ?? 0);
    spent[name] = Math.round(used * 10) / 10;
    total += used;
  }
  spent.total = Math.round(total * 10) / 10;
  return spent;
}
