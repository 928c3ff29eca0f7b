// `fleetops worker` runs with a bounded V8 heap. Left at V8's default limit (a quarter of RAM), the
// heap lets garbage pile up to gigabytes before collecting it in earnest; bounded, the worker keeps a
// small footprint at the same throughput (see bench/campaign.bench.ts and the README). The limit can
// only be set when node starts, so the launcher re-executes node with --max-old-space-size (and small
// young-generation semi-spaces), relays signals and the exit status; the worker process ends at once
// if its launcher dies.
'use strict';
const { spawn } = require('node:child_process');
const os = require('node:os');

const DEFAULT_HEAP_MB = 256;
const MIN_HEAP_MB = 128;
// V8 sizes each isolate's young generation at 3 × 16 MiB semi-spaces; the worker has two isolates (main
// thread, workflow thread). 4 MiB semi-spaces took ~60 MiB off the peak at the same throughput.
const SEMI_SPACE_MB = 4;
const PARENT_ENV = 'FLEETOPS_WORKER_PARENT_PID';

/** The heap limit in MiB from FLEETOPS_WORKER_HEAP_MB; 0 means V8's default (no relaunch). */
function workerHeapMb(env = process.env) {
  const raw = env.FLEETOPS_WORKER_HEAP_MB;
  if (raw === undefined || raw.trim() === '') return DEFAULT_HEAP_MB;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 0 || (mb > 0 && mb < MIN_HEAP_MB)) {
    throw new Error(
      `FLEETOPS_WORKER_HEAP_MB: expected 0 (V8's default heap limit) or a whole number of MiB ≥ ${MIN_HEAP_MB}, got "${raw}"`,
    );
  }
  return mb;
}

/** True when node already runs with this V8 flag chosen by the operator (command line or NODE_OPTIONS). */
function flagGiven(flag, env = process.env) {
  const pattern = new RegExp(`^--${flag.replace(/-/g, '[-_]')}(=|$)`);
  return [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => pattern.test(a));
}

/** True when node already runs with a heap limit chosen by the operator. */
function heapLimitGiven(env = process.env) {
  return flagGiven('max-old-space-size', env);
}

/**
 * Runs the worker under a bounded heap. Returns false when this process should run the worker
 * itself (it is already the relaunched one, the operator set a limit, or the limit is 0); otherwise
 * starts the worker process, relays to it, and never returns control (the launcher exits with it).
 */
function launchWithBoundedHeap(scriptPath, args) {
  if (process.env[PARENT_ENV]) {
    watchLauncher(Number(process.env[PARENT_ENV]));
    delete process.env[PARENT_ENV]; // not inherited by processes the worker starts
    return false;
  }
  let mb;
  try {
    mb = workerHeapMb();
  } catch (err) {
    console.error(`error: ${err.message}`);
    process.exit(2);
  }
  if (mb === 0 || heapLimitGiven()) return false;
  const flags = [
    `--max-old-space-size=${mb}`,
    ...(flagGiven('max-semi-space-size') ? [] : [`--max-semi-space-size=${SEMI_SPACE_MB}`]),
  ];
  const child = spawn(process.execPath, [...flags, scriptPath, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [PARENT_ENV]: String(process.pid) },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGUSR2']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (err) => {
    console.error(`error: cannot start the worker process: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
  return true;
}

/** The worker process dies with its launcher, as one process would (even on the launcher's SIGKILL). */
function watchLauncher(launcherPid) {
  setInterval(() => {
    if (process.ppid !== launcherPid) process.kill(process.pid, 'SIGKILL');
  }, 250).unref();
}

module.exports = { launchWithBoundedHeap, workerHeapMb, heapLimitGiven, flagGiven, DEFAULT_HEAP_MB };
