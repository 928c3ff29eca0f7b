import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { stackUp } from '../../stack/local-stack';
import { loadStackConfig } from '../../stack/stack-config';
import { createLogger } from '../../worker/logger';
import { createFleetWorker } from '../../worker/run-worker';
import { installRuntimeLogging } from '../../worker/runtime-logging';
import { loadWorkerConfig } from '../../worker/worker-config';
import { useLocalStackEnv } from '../local-env';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { connectTemporalClient } from '../temporal-client';
import { runCampaignStart } from './campaign-start';
import { runInventory } from './inventory';
import { runSimSeed } from './sim-seed';

/**
 * `npm run demo`: local stack up, a simulated fleet seeded (stacks at 1.0.0), a worker started in
 * this process, then an upgrade campaign 1.0.0 → 1.1.0 wave by wave (canary → early → general → late)
 * with one canary account's release poisoned by the AWS proxy — it fails, CloudFormation rolls it
 * back, the campaign stays within its failure budget and goes on — with live progress, and a final
 * inventory. Prints where to look afterwards. The stack stays up.
 */
export async function runDemo(o: { accounts: number }): Promise<void> {
  const cfg = loadStackConfig();
  const say = (l: string) => process.stderr.write(`${l}\n`);
  say('1/5 bringing the local stack up (Temporal, moto + AWS proxy, OpenBao)…');
  const up = await stackUp(cfg, (l) => say(`    ${l}`));
  say(`    ready in ${up.seconds.toFixed(1)} s`);
  useLocalStackEnv(cfg);

  say(`2/5 seeding a simulated fleet of ${o.accounts} accounts…`);
  const { file } = await runSimSeed({ accounts: o.accounts });

  const logFile = path.join(cfg.stateDir, 'logs', 'demo-worker.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  say(`3/5 starting a worker (logs: ${logFile})…`);
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: false }) });
  installRuntimeLogging(logger);
  const { worker, close } = await createFleetWorker({ config: loadWorkerConfig(), logger });
  const running = worker.run();
  // Ctrl-C (or SIGTERM) stops the worker (Temporal's runtime handles the signal): end the demo with it,
  // rather than watching a campaign nobody works on. The campaign stays on the stack, resumable.
  let finished = false;
  void running
    .finally(() => {
      if (finished) return;
      say('\ndemo interrupted: the worker stopped. The campaign stays on the local stack: npx fleetops campaign list');
      process.exit(130);
    })
    .catch(() => undefined); // a worker failure is reported by `await running` below

  try {
    // One canary account's update fails in CloudFormation (the proxy's fault plan). Half of a
    // wave may fail: a small demo fleet's canary wave (under 3 accounts) would stop at that one failure,
    // so there the poisoned account is the first of the early ring.
    const active = loadFleetFile(file).filter((a) => a.state === 'active');
    const canaries = active.filter((a) => a.ring === 'canary');
    const poisoned = (canaries.length >= 3 ? canaries[0] : active.find((a) => a.ring === 'early')!).id;
    // The stacks are at 1.0.0 on a fresh stack; a demo run again on the same stack moves them on from
    // wherever the last run left them (1.1.0 → 1.2.0 …).
    const from = highestVersion(await runInventory({ fleet: file, quiet: true, silent: true }));
    const target = nextMinor(from);
    await setPoisonedRelease(cfg.awsEndpoint, poisoned, target);
    const campaignId = `demo-upgrade-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    say(`4/5 upgrade campaign ${campaignId}: ${from} → ${target} (account ${poisoned}'s release is poisoned)…`);
    await runCampaignStart({
      operation: 'upgrade',
      version: target,
      fleet: file,
      campaignId,
      watch: true,
      maxInFlight: '20',
      failureBudget: '50%',
      waveBake: '5',
      healthBake: '5',
    });
    await fetch(`${cfg.awsEndpoint}/__fleetops/faults`, { method: 'DELETE' });
    say('5/5 inventory after the campaign…');
    await runInventory({ fleet: file });
    say('\nWhere to look:');
    say(
      `  Temporal UI:   ${cfg.temporalUiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`FleetCampaignId="${campaignId}"`)}`,
    );
    say(`  campaign:      npx fleetops campaign status ${campaignId}`);
    say(`  fleet file:    ${file}  (check it: npx fleetops fleet validate ${path.relative(process.cwd(), file)})`);
    say(`  worker log:    ${logFile}`);
    say(
      `  try a plan:    npx fleetops campaign start --operation upgrade --version ${nextMinor(target)} --plan --fleet ${path.relative(process.cwd(), file)} --watch   (needs a worker: npx fleetops worker --local)`,
    );
    say('  stop the stack: npx fleetops stack down');
    // The poisoned canary is expected to roll back; anything else going wrong fails the demo.
    const final = await campaignResult(campaignId);
    const expected =
      final.phase === 'completed' &&
      final.problems.length === 1 &&
      final.problems[0].accountId === poisoned &&
      final.problems[0].state === 'rolled-back';
    say(
      expected
        ? `\n✔ campaign completed: ${final.counts.upgraded ?? 0} upgraded, ${poisoned} rolled back as planned`
        : `\n✖ campaign ended ${final.phase} with ${final.problems.length} problem(s)`,
    );
    if (!expected) process.exitCode = 1;
  } finally {
    finished = true;
    worker.shutdown();
    await running;
    await close();
  }
}

async function setPoisonedRelease(awsEndpoint: string, accountId: string, version: string): Promise<void> {
  const res = await fetch(`${awsEndpoint}/__fleetops/faults`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      rules: [],
      cloudformation: { updateDurationMs: 1500, poisonedVersions: [{ version, accounts: [accountId] }] },
    }),
  });
  if (!res.ok) throw new Error(`AWS proxy refused the demo's fault plan: ${await res.text()}`);
}

async function campaignResult(campaignId: string): Promise<CampaignReport> {
  const { client, close } = await connectTemporalClient();
  try {
    return await client.workflow.getHandle(campaignId).result();
  } finally {
    await close();
  }
}

/** The highest pipeline version the inventory found (1.0.0 on a fresh stack). */
function highestVersion(report: FleetInventoryReport | undefined): string {
  const versions = Object.keys(report?.byVersion ?? {}).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  const key = (v: string) => v.split('.').map(Number);
  const cmp = (a: string, b: string) => key(a).reduce((d, n, i) => d || n - key(b)[i], 0);
  return versions.sort(cmp).pop() ?? '1.0.0';
}

/** 1.0.0 → 1.1.0 */
function nextMinor(version: string): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${minor + 1}.0`;
}
