import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** What `stack up` records about a process it started, so `stack down` stops exactly that one. */
export type ProcessRecord = { name: string; pid: number; command: string[]; startedAt: string; logFile: string };

export function pidFile(stateDir: string, name: string): string {
  return path.join(stateDir, 'pids', `${name}.json`);
}

export function readProcessRecord(stateDir: string, name: string): ProcessRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(pidFile(stateDir, name), 'utf8')) as ProcessRecord;
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and is still the program we started (guards against PID reuse). */
export function isOurProcessAlive(record: ProcessRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(path.basename(record.command[0]));
  } catch {
    return true; // no /proc: trust the signal probe
  }
}

/** Starts a detached process (its own process group) logging to the state folder, and records its PID. */
export function startProcess(
  stateDir: string,
  name: string,
  command: string[],
  env: NodeJS.ProcessEnv = process.env,
): ProcessRecord {
  fs.mkdirSync(path.join(stateDir, 'pids'), { recursive: true });
  fs.mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  const logFile = path.join(stateDir, 'logs', `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command[0], command.slice(1), { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${command.join(' ')}`);
  child.unref();
  const record: ProcessRecord = { name, pid: child.pid, command, startedAt: new Date().toISOString(), logFile };
  fs.writeFileSync(pidFile(stateDir, name), JSON.stringify(record, null, 2));
  return record;
}

/** Stops a recorded process (and its process group) by PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(
  stateDir: string,
  name: string,
  graceMs = 10_000,
): Promise<'stopped' | 'not running'> {
  const record = readProcessRecord(stateDir, name);
  if (!record) return 'not running';
  let result: 'stopped' | 'not running' = 'not running';
  if (isOurProcessAlive(record)) {
    signalGroup(record.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && isAlive(record.pid)) await delay(100);
    if (isAlive(record.pid)) signalGroup(record.pid, 'SIGKILL');
    while (isAlive(record.pid)) await delay(50);
    result = 'stopped';
  }
  fs.rmSync(pidFile(stateDir, name), { force: true });
  return result;
}

/**
 * SIGKILLs a recorded process and its process group by PID, as a crash would (no shutdown, nothing
 * flushed); resolves once it is gone and its record removed. Fails when it is not running.
 */
export async function killProcess(stateDir: string, name: string, timeoutMs = 10_000): Promise<ProcessRecord> {
  const record = readProcessRecord(stateDir, name);
  if (!record || !isOurProcessAlive(record)) throw new Error(`${name} is not running: nothing to kill`);
  signalGroup(record.pid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(record.pid)) {
    if (Date.now() > deadline) throw new Error(`${name} (pid ${record.pid}) still runs ${timeoutMs} ms after SIGKILL`);
    await delay(50);
  }
  fs.rmSync(pidFile(stateDir, name), { force: true });
  return record;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** True while `pid` runs (a zombie waiting to be reaped counts as ended). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped by its parent) still answers signal 0.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes; the error names the part and its log. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await delay(150);
  }
  const tail =
    logFile && fs.existsSync(logFile)
      ? `\n--- last lines of ${logFile} ---\n${fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`
      : '';
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s${tail}`);
}

export async function httpOk(url: string, init?: RequestInit): Promise<boolean> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return res.ok;
}
