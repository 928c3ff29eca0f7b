/**
 * What the campaign benches share: the seeded fleet on the local stack, a worker in its own process (`fleetops worker --local`, measured by
 * the PID it logs — the launcher re-executes node with a bounded heap), its peak RSS, and the longest
 * workflow history of a campaign (its runs and one child).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { runSimSeed } from '../cli/commands/sim-seed';
import { useLocalStackEnv } from '../cli/local-env';
import type { FleetAccount } from '../fleet/fleet-schema';
import { loadFleetFile } from '../fleet/load-fleet';
import { stackUp } from '../stack/local-stack';
import { loadStackConfig, type StackConfig } from '../stack/stack-config';

const ROOT = path.resolve(__dirname, '..');

export type BenchWorker = {
  proc: ChildProcess;
  pid: number;
  heapLimitMiB: number;
  peakRssMiB: () => number | undefined;
};

/**
 * Starts a worker on `taskQueue`, logging to `<state>/logs/<name>.log`; resolves once it polls. Workers
 * beside each other need their own metrics and probe addresses (`env.FLEETOPS_METRICS_ADDRESS`,
 * `FLEETOPS_HEALTH_ADDRESS`): the default ports are taken by the first.
 */
export async function startBenchWorker(
  cfg: StackConfig,
  taskQueue: string,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<BenchWorker> {
  const logFile = path.join(cfg.stateDir, 'logs', `${name}.log`);
  const out = fs.openSync(logFile, 'w');
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), 'worker', '--local'], {
    cwd: ROOT,
    env: { ...process.env, FLEETOPS_TASK_QUEUE: taskQueue, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let started: { pid: number; heapLimitMiB: number } | undefined;
  while (!started) {
    if (proc.exitCode !== null) throw new Error(`the bench worker exited (${proc.exitCode}); see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
    const line = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"worker started"'));
    if (line) started = JSON.parse(line);
  }
  const { pid, heapLimitMiB } = started;
  return {
    proc,
    pid,
    heapLimitMiB,
    peakRssMiB: () => {
      const kb = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)?.[1];
      return kb ? Number(kb) / 1024 : undefined;
    },
  };
}

/** The campaign's number of runs (continue-as-new) and the longest history among them and one `childType` child. */
export async function campaignHistories(
  client: Client,
  workflowId: string,
  childType: string,
): Promise<{ runs: number; longest: number }> {
  let longest = 0;
  let runs = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs++;
    const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    longest = Math.max(longest, h.events?.length ?? 0);
  }
  for await (const wf of client.workflow.list({
    query: `WorkflowType = '${childType}' AND FleetCampaignId = '${workflowId}'`,
    pageSize: 20,
  })) {
    const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    longest = Math.max(longest, h.events?.length ?? 0);
    break;
  }
  return { runs, longest };
}

/**
 * A fresh-enough bench fleet on the local stack: the stack up (with its environment), no fault plan,
 * `n` simulated accounts seeded from `idBase` (idempotent) into `<state>/<name>-<n>.yaml`;
 * `organization`: the accounts in one OU that images are shared with (`sim seed --organization`).
 */
export async function seedBenchFleet(
  n: number,
  idBase: number,
  name: string,
  opts: { organization?: boolean } = {},
): Promise<{ cfg: StackConfig; file: string; accounts: FleetAccount[]; seedSeconds: number }> {
  const cfg = loadStackConfig();
  await stackUp(cfg, () => undefined);
  useLocalStackEnv(cfg);
  await fetch(`${cfg.awsEndpoint}/__fleetops/faults`, { method: 'DELETE' });
  const seed = await runSimSeed({
    accounts: n,
    idBase,
    out: path.join(cfg.stateDir, `${name}-${n}.yaml`),
    quiet: true,
    organization: opts.organization,
  });
  return { cfg, file: seed.file, accounts: loadFleetFile(seed.file), seedSeconds: seed.seconds };
}
