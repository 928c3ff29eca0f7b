import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** Polls `ok` every 50 ms; throws naming `what` if it is still false after `timeoutMs`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Running, as opposed to gone or a zombie waiting for init to reap it. */
export function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * `fleetops worker --local` as its own process (as an operator runs it), logging JSON lines to
 * `logFile`, for chaos tests that kill it with SIGKILL and start it again.
 */
export class WorkerProcess {
  private proc: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(
    private readonly taskQueue: string,
    readonly logFile: string,
    private readonly env: Record<string, string> = {},
  ) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.writeFileSync(logFile, '');
  }

  /** The "worker started" lines: the launcher re-executes node, so these name the worker processes. */
  starts(): { pid: number; heapLimitMiB: number }[] {
    return fs
      .readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"worker started"'))
      .map((l) => JSON.parse(l) as { pid: number; heapLimitMiB: number });
  }

  /** Starts the worker; resolves once it logged "worker started" (it polls), or fails after `timeoutMs`. */
  async start(timeoutMs = 60_000): Promise<{ pid: number; seconds: number }> {
    const started = Date.now();
    const before = this.starts().length;
    const out = fs.openSync(this.logFile, 'a');
    this.proc = spawn(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), 'worker', '--local'], {
      cwd: ROOT,
      env: { ...process.env, FLEETOPS_TASK_QUEUE: this.taskQueue, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const proc = this.proc;
    this.exit = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    await until(`worker process ${before + 1} logs "worker started"`, () => this.starts().length > before, timeoutMs);
    return { pid: this.starts().at(-1)!.pid, seconds: (Date.now() - started) / 1000 };
  }

  /**
   * SIGKILL of the launcher; waits until the worker process itself is gone too. Returns the signal
   * the launcher ended by (undefined when nothing was running).
   */
  async kill9(): Promise<NodeJS.Signals | null | undefined> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return undefined;
    const worker = this.starts().at(-1);
    const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_code, signal) => r(signal)));
    proc.kill('SIGKILL');
    const signal = await exited;
    // The worker process (the launcher's child) checks for its launcher every 250 ms and ends itself.
    if (worker)
      await until(
        `worker process ${worker.pid} to end after its launcher's SIGKILL`,
        () => !running(worker.pid),
        5_000,
      );
    return signal;
  }

  /** Sends `signal` (relayed by the launcher to the worker) and returns at once; see `exited`. */
  signal(signal: NodeJS.Signals): void {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null)
      throw new Error(`worker process not running: cannot send ${signal}`);
    this.proc.kill(signal);
  }

  /** Resolves with the launcher's exit status (the worker's own, passed back) once it ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) throw new Error('worker process never started');
    return this.exit;
  }

  log(): string {
    return fs.readFileSync(this.logFile, 'utf8');
  }
}
