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

  try {
    // One canary account's update to 1.1.0 fails in CloudFormation (the proxy's fault plan).
    const poisoned = loadFleetFile(file).find((a) => a.ring === 'canary' && a.state === 'active')!.id;
    await setPoisonedCanary(cfg.awsEndpoint, poisoned);
    const campaignId = `demo-upgrade-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    say(`4/5 upgrade campaign ${campaignId}: 1.0.0 → 1.1.0 (account ${poisoned}'s release is poisoned)…`);
    await runCampaignStart({
      operation: 'upgrade',
      version: '1.1.0',
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
      `  try a plan:    npx fleetops campaign start --operation upgrade --version 1.2.0 --plan --fleet ${path.relative(process.cwd(), file)} --watch   (needs a worker: npx fleetops worker --local)`,
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
    worker.shutdown();
    await running;
    await close();
  }
}

async function setPoisonedCanary(awsEndpoint: string, accountId: string): Promise<void> {
  const res = await fetch(`${awsEndpoint}/__fleetops/faults`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      rules: [],
      cloudformation: { updateDurationMs: 1500, poisonedVersions: [{ version: '1.1.0', accounts: [accountId] }] },
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
