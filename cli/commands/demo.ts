import fs from 'node:fs';
import path from 'node:path';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import pino from 'pino';
import type { AccountAwsDeps } from '../../activities/aws/account-region';
import { stackUp } from '../../stack/local-stack';
import { loadStackConfig } from '../../stack/stack-config';
import { createLogger } from '../../worker/logger';
import { createFleetWorker } from '../../worker/run-worker';
import { installRuntime } from '../../worker/runtime-install';
import { loadWorkerConfig } from '../../worker/worker-config';
import { useLocalStackEnv } from '../local-env';
import { resolveAccountSecrets } from '../../fleet/fleet-secrets';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { loadFleetFile } from '../../fleet/load-fleet';
import { healthAlarmName } from '../../fleet/pipeline-stack';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import type { FleetInventoryReport } from '../../workflows/fleet-inventory';
import { connectTemporalClient } from '../temporal-client';
import { runCampaignStart } from './campaign-start';
import { DemoAmiRollout, everyAccountRolledOut } from './demo-ami-rollout';
import { runInventory } from './inventory';
import { reportProblems, runSecretStatus } from './secret-status';
import { runSimSeed } from './sim-seed';

/**
 * `npm run demo`: local stack up, a simulated fleet seeded (stacks at 1.0.0), a worker started in
 * this process, then an upgrade campaign 1.0.0 → 1.1.0 wave by wave (canary → early → general → late)
 * with one canary account's release poisoned by the AWS proxy — it fails, CloudFormation rolls it
 * back, the campaign stays within its failure budget and goes on — with live progress, and a final
 * inventory; then a rotation of `collector-api-key` across the fleet with one account's rotation rolled
 * back by its failed test (the proxy answers reads of the new version with the current one), and
 * `secret status` of that account and of a rotated one; then an AMI rollout of a poisoned image (the
 * proxy fails its instance refreshes) contained in the canary wave — the canaries' groups back on their
 * version N, no later-wave account touched — and a good image rolled through the fleet
 * (demo-ami-rollout.ts). Prints where to look afterwards and exits 1 unless exactly the planned
 * accounts failed. The stack stays up; running it again on the same stack
 * upgrades to the next minor version and rotates again.
 */
export async function runDemo(o: { accounts: number }): Promise<void> {
  const cfg = loadStackConfig();
  const say = (l: string) => process.stderr.write(`${l}\n`);
  say('1/8 bringing the local stack up (Temporal, moto + AWS proxy, OpenBao)…');
  const up = await stackUp(cfg, (l) => say(`    ${l}`));
  say(`    ready in ${up.seconds.toFixed(1)} s`);
  useLocalStackEnv(cfg);

  say(`2/8 seeding a simulated fleet of ${o.accounts} accounts…`);
  const { file } = await runSimSeed({ accounts: o.accounts });

  const logFile = path.join(cfg.stateDir, 'logs', 'demo-worker.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  say(`3/8 starting a worker (logs: ${logFile})…`);
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: false }) });
  const config = loadWorkerConfig();
  installRuntime(logger, { metricsAddress: config.metricsAddress });
  const { worker, fleet, close } = await createFleetWorker({ config, logger });
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
    // The rotation's rolled-back account: another account of a wave of at least 3 (so that one
    // failure stays within the wave's 50% budget), in the same way.
    const victim = rotationVictim(active, poisoned);
    // Its health alarm back to OK first: a run interrupted during an earlier demo's rotation may have left it in ALARM,
    // which would roll this run's upgrade of that account back.
    await setHealthAlarm(fleet.shared, victim, 'OK');
    // The stacks are at 1.0.0 on a fresh stack; a demo run again on the same stack moves them on from
    // wherever the last run left them (1.1.0 → 1.2.0 …).
    const from = highestVersion(await runInventory({ fleet: file, quiet: true, silent: true }));
    const target = nextMinor(from);
    await setPoisonedRelease(cfg.awsEndpoint, poisoned, target);
    const campaignId = `demo-upgrade-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    say(`4/8 upgrade campaign ${campaignId}: ${from} → ${target} (account ${poisoned}'s release is poisoned)…`);
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
    say('5/8 inventory after the campaign…');
    await runInventory({ fleet: file });

    const rotationId = `demo-rotate-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    say(
      `6/8 rotation campaign ${rotationId}: ${SECRET} in every account (Vault → AWSPENDING → test → AWSCURRENT → health gate)`,
    );
    say(
      `    account ${victim.id}'s Secrets Manager answers reads of the new version with the current one (the proxy's fault plan): its test step finds AWS and Vault disagree and rolls the rotation back (AWSPENDING removed, the old value stays current)`,
    );
    await setStaleSecretReads(cfg.awsEndpoint, victim.id);
    try {
      await runCampaignStart({
        operation: 'rotate-secret',
        secret: SECRET,
        fleet: file,
        campaignId: rotationId,
        watch: true,
        maxInFlight: '20',
        failureBudget: '50%',
        waveBake: '5',
        healthBake: '5',
      });
    } finally {
      await fetch(`${cfg.awsEndpoint}/__fleetops/faults`, { method: 'DELETE' });
      say(`    ${victim.id}'s fault is lifted`);
    }
    const rotated =
      active.find((a) => a.id !== victim.id && a.id !== poisoned && a.ring === victim.ring) ??
      active.find((a) => a.id !== victim.id)!;
    say(`7/8 secret status of the rolled-back account ${victim.id} and of a rotated one, ${rotated.id}…`);
    const statuses = [];
    for (const a of [victim, rotated]) {
      say('');
      statuses.push(await runSecretStatus(a.id, SECRET, { fleet: file }));
    }
    const statusProblems = statuses.flatMap((r) => reportProblems(r).map((p) => `${r.accountId} ${p}`));

    say(
      `\n8/8 AMI rollout: a poisoned image (the proxy fails its instance refreshes) contained in the canary wave, then a good one through the fleet…`,
    );
    const ami = await new DemoAmiRollout(cfg, file, fleet.shared, say).run(active);
    const amiPoisoned = await campaignResult(ami.poisonedCampaignId);
    const amiGood = await campaignResult(ami.goodCampaignId);
    say('\nWhere to look:');
    say(
      `  Temporal UI:   ${cfg.temporalUiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`FleetCampaignId="${campaignId}"`)}`,
    );
    say(`  campaign:      npx fleetops campaign status ${campaignId}`);
    say(
      `  rotation:      ${cfg.temporalUiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`FleetCampaignId="${rotationId}"`)}`,
    );
    say(`                 npx fleetops campaign status ${rotationId}`);
    say(
      `  secrets:       npx fleetops secret status ${victim.id} --local   (every secret of the account; never prints a value)`,
    );
    say(`  AMI rollouts:  npx fleetops campaign status ${ami.poisonedCampaignId}   (and ${ami.goodCampaignId})`);
    say('  runbooks:      docs/runbooks/secret-test-failed-rolled-back.md (the rolled-back account), secret-*.md');
    say('                 docs/runbooks/ami-refresh-rolled-back.md (the poisoned image)');
    say(`  fleet file:    ${file}  (check it: npx fleetops fleet validate ${path.relative(process.cwd(), file)})`);
    say(`  worker log:    ${logFile}`);
    say(
      `  try a plan:    npx fleetops campaign start --operation upgrade --version ${nextMinor(target)} --plan --fleet ${path.relative(process.cwd(), file)} --watch   (needs a worker: npx fleetops worker --local)`,
    );
    say(
      `  AMI plan:      npx fleetops campaign start --operation ami-rollout --image latest --plan --fleet ${path.relative(process.cwd(), file)} --watch   (per group: current image, target image, can it roll back)`,
    );
    say('  stop the stack: npx fleetops stack down');
    // The poisoned canary and the rotation's victim are expected to roll back; anything else going wrong fails the demo.
    const final = await campaignResult(campaignId);
    const expected = onlyRolledBack(final, poisoned, 'upgraded');
    say(
      expected
        ? `\n✔ upgrade campaign completed: ${final.counts.upgraded ?? 0} upgraded, ${poisoned} rolled back as planned`
        : `\n✖ upgrade campaign ended ${final.phase} with ${final.problems.length} problem(s)`,
    );
    const rotation = await campaignResult(rotationId);
    const rotationExpected = onlyRolledBack(rotation, victim.id, 'rotated');
    say(
      rotationExpected
        ? `✔ rotation campaign completed: ${rotation.counts.rotated ?? 0} rotated, ${victim.id} rolled back as planned (its test failed)`
        : `✖ rotation campaign ended ${rotation.phase}: ${JSON.stringify(rotation.counts)}, problems: ${rotation.problems.map((p) => `${p.accountId} ${p.state}`).join(', ') || 'none'}`,
    );
    say(
      statusProblems.length === 0
        ? '✔ secret status: Vault and AWS agree in both accounts'
        : `✖ secret status: ${statusProblems.join('; ')}`,
    );
    const amiContained =
      ami.canaryBack && ami.touchedOutsideCanary.length === 0 && (amiPoisoned.counts['rolled-back'] ?? 0) > 0;
    say(
      amiContained
        ? `✔ poisoned image contained in the canary wave (campaign ${amiPoisoned.phase}, ${amiPoisoned.counts['rolled-back']} rolled back): its groups back on version N, no later-wave account touched`
        : `✖ poisoned image not contained: campaign ${amiPoisoned.phase} ${JSON.stringify(amiPoisoned.counts)}, canary groups back on N: ${ami.canaryBack}, later-wave accounts touched: ${ami.touchedOutsideCanary.join(', ') || 'none'}`,
    );
    const amiRolledOut = everyAccountRolledOut(amiGood);
    say(
      amiRolledOut
        ? `✔ good image rolled out: ${amiGood.counts['rolled-out'] ?? 0} accounts`
        : `✖ good image campaign ended ${amiGood.phase}: ${JSON.stringify(amiGood.counts)}`,
    );
    if (!expected || !rotationExpected || statusProblems.length > 0 || !amiContained || !amiRolledOut)
      process.exitCode = 1;
  } finally {
    finished = true;
    worker.shutdown();
    await running;
    await close();
  }
}

const SECRET = 'collector-api-key';

/** The campaign completed with every account `done` except `accountId`, rolled back. */
function onlyRolledBack(report: CampaignReport, accountId: string, done: string): boolean {
  const counts = Object.entries(report.counts).filter(([, n]) => (n ?? 0) > 0);
  return (
    report.phase === 'completed' &&
    report.problems.length === 1 &&
    report.problems[0].accountId === accountId &&
    report.problems[0].state === 'rolled-back' &&
    counts.every(([state, n]) => state === done || (state === 'rolled-back' && n === 1))
  );
}

/** An account of the first ring with at least 3 active accounts that is not `avoid` (the upgrade's poisoned one). */
function rotationVictim(active: FleetAccount[], avoid: string): FleetAccount {
  for (const ring of ['canary', 'early', 'general', 'late']) {
    const inRing = active.filter((a) => a.ring === ring);
    if (inRing.length >= 3) return inRing.find((a) => a.id !== avoid)!;
  }
  throw new Error('the demo fleet has no ring of 3 or more active accounts: use FLEETOPS_DEMO_ACCOUNTS=20 or more');
}

/** CloudWatch SetAlarmState on the account's `<stack>-health` alarm in the secret's region, with the account's own credentials (AssumeRole + ExternalId, the worker's path). */
async function setHealthAlarm(
  shared: Pick<AccountAwsDeps, 'clients' | 'credentials'>,
  account: FleetAccount,
  state: 'OK' | 'ALARM',
): Promise<void> {
  const secret = resolveAccountSecrets(account)[SECRET];
  const region = secret && 'region' in secret ? secret.region : account.regions[0];
  const cw = shared.clients.cloudWatch(region, shared.credentials.provider(account, 'demo'), `${account.id}/demo`);
  await cw.send(
    new SetAlarmStateCommand({
      AlarmName: healthAlarmName(account.pipeline.stackName),
      StateValue: state,
      StateReason: `set by the fleetops demo (${state})`,
    }),
  );
}

/** The proxy's fault plan: Secrets Manager reads by VersionId in the account answer with AWSCURRENT. */
async function setStaleSecretReads(awsEndpoint: string, accountId: string): Promise<void> {
  const res = await fetch(`${awsEndpoint}/__fleetops/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [], secretsmanager: { staleVersionReadsFor: [accountId] } }),
  });
  if (!res.ok) throw new Error(`AWS proxy fault plan rejected: HTTP ${res.status} ${await res.text()}`);
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
