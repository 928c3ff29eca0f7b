import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { fleetCampaign, type CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { cleanUp } from '../support/cleanup';
import { proxyAdmin } from '../support/proxy-admin';
import { port } from '../support/test-env';
import { proxyStats, setFaultPlan, testClient, testStack } from '../support/test-stack';

// The worker's Prometheus endpoint, scraped during a 200-account rotation campaign with throttling:
// fleetops' counters agree with the campaign's report and with what the AWS proxy saw.
const cfg = testStack();
const TASK_QUEUE = 'worker-metrics-test';
const ROOT = path.resolve(__dirname, '../..');
const METRICS = `127.0.0.1:${port(19464)}`;
const ACCOUNTS = 200;
const workerLog = path.join(cfg.stateDir, 'logs', 'metrics-worker.log');
let fleetFile: string;
let worker: ChildProcess | undefined;
let temporal: Awaited<ReturnType<typeof testClient>>;

/** `name{labels} value` lines of a scrape, by metric name, each with its labels. */
function parse(text: string): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const out = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    const list = out.get(m[1]) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(m[1], list);
  }
  return out;
}

async function scrape() {
  const res = await fetch(`http://${METRICS}/metrics`);
  expect(res.status).toBe(200);
  return parse(await res.text());
}

/** Sum of a metric's samples whose labels include `where`. */
function sum(metrics: Awaited<ReturnType<typeof scrape>>, name: string, where: Record<string, string> = {}): number {
  return (metrics.get(name) ?? [])
    .filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((t, s) => t + s.value, 0);
}

beforeAll(async () => {
  fs.mkdirSync(path.dirname(workerLog), { recursive: true });
  fs.writeFileSync(workerLog, '');
  ({ file: fleetFile } = await runSimSeed({
    accounts: ACCOUNTS,
    idBase: 978_000_000_000,
    out: path.join(cfg.stateDir, 'worker-metrics-fleet.yaml'),
    quiet: true,
  }));
  const out = fs.openSync(workerLog, 'a');
  worker = spawn(process.execPath, [path.join(ROOT, 'bin/fleetops.js'), 'worker', '--local'], {
    cwd: ROOT,
    env: { ...process.env, FLEETOPS_TASK_QUEUE: TASK_QUEUE, FLEETOPS_METRICS_ADDRESS: METRICS, LOG_LEVEL: 'info' },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const deadline = Date.now() + 60_000;
  while (!fs.readFileSync(workerLog, 'utf8').includes('"worker started"')) {
    if (Date.now() > deadline || worker.exitCode !== null)
      throw new Error(`the worker did not start; see ${workerLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  temporal = await testClient(cfg);
}, 600_000);

afterAll(() =>
  cleanUp({
    faults: () => setFaultPlan(cfg, null),
    worker: () => worker?.kill('SIGTERM'),
    temporal: () => temporal?.close(),
  }),
);

describe('worker metrics (Prometheus)', () => {
  it(
    'counters scraped during a 200-account campaign agree with its report and the proxy',
    { timeout: 300_000 },
    async () => {
      const before = await scrape();
      expect(sum(before, 'fleetops_accounts_total')).toBe(0);
      await setFaultPlan(cfg, { rules: [{ service: 'secretsmanager', throttleRate: 0.1 }] });
      await proxyAdmin(cfg.awsEndpoint, 'POST', 'stats/reset');
      const campaignId = `metrics-${Date.now()}`;
      const running = temporal.client.workflow.execute(fleetCampaign, {
        taskQueue: TASK_QUEUE,
        workflowId: campaignId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile,
            maxInFlight: 40,
            failureBudget: { maxFailurePercent: 25 },
            rotation: { secret: 'collector-api-key', healthBakeSeconds: 0 },
          },
        ],
      });
      // during the campaign: accounts in flight (started − finished) seen above zero
      let maxInFlight = 0;
      let done = false;
      void running.finally(() => (done = true)).catch(() => undefined);
      while (!done) {
        const m = await scrape();
        const rotation = { operation: 'rotate-secret' };
        maxInFlight = Math.max(
          maxInFlight,
          sum(m, 'fleetops_accounts_started_total', rotation) - sum(m, 'fleetops_accounts_total', rotation),
        );
        await new Promise((r) => setTimeout(r, 250));
      }
      const report: CampaignReport = await running;
      await setFaultPlan(cfg, null);
      expect(report.counts).toEqual({ rotated: ACCOUNTS });
      expect(maxInFlight).toBeGreaterThan(0);
      expect(maxInFlight).toBeLessThanOrEqual(40);

      const m = await scrape();
      const rotation = { operation: 'rotate-secret' };
      expect(sum(m, 'fleetops_accounts_started_total', rotation)).toBe(ACCOUNTS);
      expect(sum(m, 'fleetops_accounts_total', { ...rotation, outcome: 'rotated' })).toBe(ACCOUNTS);
      expect(sum(m, 'fleetops_accounts_total', rotation)).toBe(ACCOUNTS);

      // AWS calls: the throttled attempts are the ones the proxy injected; every attempt waited on the budgets
      const stats = await proxyStats(cfg);
      expect(stats.injected.throttle).toBeGreaterThan(0);
      expect(sum(m, 'fleetops_aws_calls_total', { outcome: 'throttled' })).toBe(stats.injected.throttle);
      expect(sum(m, 'fleetops_aws_calls_total', { family: 'secretsmanager', outcome: 'throttled' })).toBe(
        stats.injected.throttle,
      );
      const attempts = sum(m, 'fleetops_aws_calls_total');
      expect(attempts).toBeGreaterThan(ACCOUNTS * 4);
      expect(sum(m, 'fleetops_rate_limiter_wait_count')).toBe(attempts);
      // one AssumeRole per account (cached after), each one a cache miss; later lookups hit
      expect(sum(m, 'fleetops_aws_calls_total', { family: 'sts', api: 'AssumeRole', outcome: 'ok' })).toBe(ACCOUNTS);
      expect(sum(m, 'fleetops_credential_cache_total', { result: 'miss' })).toBeGreaterThanOrEqual(ACCOUNTS);
      expect(sum(m, 'fleetops_credential_cache_total', { result: 'hit' })).toBeGreaterThan(0);
      // the Temporal Runtime's own metrics are served beside them
      expect([...m.keys()].some((k) => k.startsWith('temporal_activity_execution'))).toBe(true);
      expect([...m.keys()].some((k) => k.startsWith('temporal_workflow_completed'))).toBe(true);
    },
  );
});
