/**
 * Where a bench phase's time went on the local stack: the AWS calls it made (the proxy's request
 * counter) and the CPU seconds each stack process spent (moto, the AWS proxy, the Temporal dev server,
 * OpenBao, plus the bench process and its worker), from `/proc/<pid>/stat`. On a 2-core machine a
 * campaign shares the cores moto needs with the Temporal server and the worker, which a plain script
 * does not: these figures show how much of a Temporal/plain ratio is that, and how much is more calls.
 */
import fs from 'node:fs';
import { readProcessRecord } from '../stack/processes';
import type { StackConfig } from '../stack/stack-config';

/** The stack processes measured (names as `stack up` records them). */
const STACK_PROCESSES = ['moto', 'aws-proxy', 'temporal', 'vault'] as const;
/** Linux clock ticks per second (USER_HZ): /proc/<pid>/stat counts CPU time in them. */
const TICKS_PER_SECOND = 100;

type Sample = { at: number; requests: number; byAction: Record<string, number>; cpu: Map<string, number> };

export class PhaseLoad {
  private readonly pids = new Map<string, number>();

  constructor(private readonly cfg: StackConfig) {
    for (const name of STACK_PROCESSES) {
      const record = readProcessRecord(cfg.stateDir, name);
      if (record) this.pids.set(name, record.pid);
    }
  }

  /** Measures another process too (e.g. the bench's worker). */
  watch(name: string, pid: number): void {
    this.pids.set(name, pid);
  }

  async sample(): Promise<Sample> {
    const res = await fetch(`${this.cfg.awsEndpoint}/__fleetops/stats`);
    if (!res.ok) throw new Error(`AWS proxy stats: HTTP ${res.status}`);
    const stats = (await res.json()) as { requests: number; byAction: Record<string, number> };
    const cpu = new Map<string, number>();
    for (const [name, pid] of this.pids) {
      const seconds = cpuSeconds(pid);
      if (seconds !== undefined) cpu.set(name, seconds);
    }
    const own = process.cpuUsage();
    cpu.set('bench', (own.user + own.system) / 1e6);
    return { at: Date.now(), requests: stats.requests, byAction: stats.byAction, cpu };
  }

  /** One line per phase: AWS calls (per account), and each process's CPU seconds and share of the wall time. */
  describe(label: string, from: Sample, to: Sample, accounts: number): string {
    const wall = (to.at - from.at) / 1000;
    const requests = to.requests - from.requests;
    const cpu = [...to.cpu]
      .map(([name, s]) => [name, s - (from.cpu.get(name) ?? 0)] as const)
      .filter(([, s]) => s >= 0.5)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${s.toFixed(0)} s (${((s / wall) * 100).toFixed(0)} %)`)
      .join(', ');
    const moto = (to.cpu.get('moto') ?? 0) - (from.cpu.get('moto') ?? 0);
    return (
      `  ${label}: ${requests} AWS calls (${(requests / accounts).toFixed(1)}/account, ${(requests / wall).toFixed(1)}/s); ` +
      `moto ${requests ? ((moto / requests) * 1000).toFixed(1) : '?'} ms CPU per call; CPU over ${wall.toFixed(0)} s: ${cpu}`
    );
  }

  /** The calls made between two samples, by action, most first. */
  callsByAction(from: Sample, to: Sample): string {
    return Object.entries(to.byAction)
      .map(([action, n]) => [action, n - (from.byAction[action] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([action, n]) => `${action} ${n}`)
      .join(', ');
  }
}

/** utime + stime of a process in seconds (undefined once it is gone). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command (in parentheses, which may hold spaces): state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
