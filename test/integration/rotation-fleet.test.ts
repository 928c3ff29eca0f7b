import fs from 'node:fs';
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { mapPool } from '../../cli/map-pool';
import { kvRead } from '../../cli/sim/vault-kv';
import { resolveAccountSecrets, type FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { externalIdCleanupId } from '../../workflows/rotation/external-id-cleanup';
import { secretKeyCleanupId, type SecretKeyCleanupResult } from '../../workflows/rotation/secret-key-cleanup';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { cleanUp } from '../support/cleanup';
import { secretsIn } from '../support/history-scan';
import { runRotationCampaign } from '../support/rotation-campaigns';
import {
  KINDS,
  SECRETS,
  accountClients,
  rotationProblems,
  scanHistories,
  sha256,
  vaultAt,
  vaultPathOf,
  vaultSecrets,
  vaultVersionsBefore,
  type Kind,
} from '../support/rotation-state';
import { proxyStats, setFaultPlan, startTestWorker, testClient, testStack } from '../support/test-stack';

// Issue 8's fleet-scale proof: 300 accounts, 10% throttling on Secrets Manager, IAM and STS, the three
// kinds rotated by three campaigns running at once, and a consumer probe on a sample of accounts for
// the whole time (the collector's key, the loader's key pair, fleetops' own ExternalId): zero failed
// probes. Then every account is checked (rotated exactly once, old value AWSPREVIOUS, old key and old
// ExternalId gone after the grace) and every history and log line scanned for what Vault holds.
// Nothing here prints a value: hashes, version numbers, key ids and booleans only.
const cfg = testStack();
const TASK_QUEUE = 'rotation-fleet-test';
const ACCOUNTS = 300;
const ID_BASE = 961_000_000_000 + (Date.now() % 10_000) * 1000;
const RUN = `rotfleet-${Date.now()}`;
/** Short graces, so the old key's deactivation and deletion and the old ExternalId's removal happen in the test. */
const KEY_GRACE_SECONDS = 10;
const KEY_DELETE_AFTER_SECONDS = 15;
const EXTERNAL_ID_GRACE_SECONDS = 10;
const PROBE_SAMPLE = 10;
const PROBE_ROUND_MS = 2000;
const campaignOf = (kind: Kind) => `${RUN}-${kind}`;

let fleetFile: string;
let accounts: FleetAccount[];
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let temporal: Awaited<ReturnType<typeof testClient>>;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  const seeded = await runSimSeed({
    accounts: ACCOUNTS,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, `rotation-fleet-${ID_BASE}.yaml`),
    quiet: true,
  });
  figures.seedSeconds = Math.round(seeded.seconds);
  fleetFile = seeded.file;
  const doc = YAML.parse(fs.readFileSync(fleetFile, 'utf8'));
  doc.defaults.secrets[SECRETS['iam-access-key']].graceSeconds = KEY_GRACE_SECONDS;
  doc.defaults.secrets[SECRETS['iam-access-key']].deleteAfterSeconds = KEY_DELETE_AFTER_SECONDS;
  doc.defaults.secrets[SECRETS['external-id']] = { kind: 'external-id', graceSeconds: EXTERNAL_ID_GRACE_SECONDS };
  fs.writeFileSync(fleetFile, YAML.stringify(doc));
  accounts = loadFleetFile(fleetFile);
  worker = await startTestWorker(TASK_QUEUE);
  temporal = await testClient(cfg);
}, 300_000);

afterAll(async () => {
  process.stderr.write(`[rotation-fleet] ${JSON.stringify(figures)}\n`);
  await cleanUp({
    faults: () => setFaultPlan(cfg, null),
    worker: () => worker?.stop(),
    temporal: () => temporal?.close(),
  });
});

/**
 * One consumer probe of an account, as the customer's pipeline and fleetops' workers use the secrets:
 * AssumeRole with the ExternalId Vault hands out now; the collector key AWSCURRENT must be a value Vault
 * holds (its latest or the one before: during a rotation both are legitimate); the loader signs STS
 * GetCallerIdentity with the pair it reads from its secret's AWSCURRENT and must be the loader user.
 * Returns why it failed (ids and versions only), or undefined.
 */
async function probe(account: FleetAccount): Promise<string | undefined> {
  const secrets = resolveAccountSecrets(account);
  const collector = secrets[SECRETS.secretsmanager];
  const loader = secrets[SECRETS['iam-access-key']];
  if (collector?.kind !== 'secretsmanager' || loader?.kind !== 'iam-access-key') return 'secrets missing';
  const ref = await vaultAt(cfg, account.externalIdRef);
  const sts = new STSClient({ endpoint: cfg.awsEndpoint, region: 'us-east-1', maxAttempts: 10 });
  let credentials;
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: account.roleArn,
        RoleSessionName: 'consumer-probe',
        ExternalId: String(ref.data.externalId),
      }),
    );
    credentials = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
  } catch (err) {
    return `AssumeRole with the ExternalId of Vault v${ref.version} failed: ${(err as Error).name}`;
  } finally {
    sts.destroy();
  }
  const sm = new SecretsManagerClient({
    endpoint: cfg.awsEndpoint,
    region: collector.region,
    credentials,
    maxAttempts: 10,
  });
  try {
    const current = await sm.send(
      new GetSecretValueCommand({ SecretId: collector.secretId, VersionStage: 'AWSCURRENT' }),
    );
    const vaultPath = vaultPathOf(account, 'secretsmanager');
    const latest = await vaultAt(cfg, vaultPath);
    const before = latest.version > 1 ? await kvRead(cfg, vaultPath, latest.version - 1) : undefined;
    const hash = sha256(current.SecretString);
    if (hash !== sha256(latest.data.value) && hash !== sha256(before?.data.value))
      return `${collector.secretId} AWSCURRENT (version ${current.VersionId}) is neither Vault v${latest.version} nor v${latest.version - 1}`;

    const delivered = await sm.send(
      new GetSecretValueCommand({ SecretId: loader.deliverTo, VersionStage: 'AWSCURRENT' }),
    );
    const pair = JSON.parse(delivered.SecretString ?? '{}') as { accessKeyId?: string; secretAccessKey?: string };
    const signer = new STSClient({
      endpoint: cfg.awsEndpoint,
      region: 'us-east-1',
      maxAttempts: 10,
      credentials: { accessKeyId: String(pair.accessKeyId), secretAccessKey: String(pair.secretAccessKey) },
    });
    try {
      const arn = (await signer.send(new GetCallerIdentityCommand({}))).Arn;
      if (arn !== `arn:aws:iam::${account.id}:user/${loader.userName}`)
        return `the loader's key ${pair.accessKeyId} (version ${delivered.VersionId}) signs as ${arn}`;
    } catch (err) {
      return `the loader's key ${pair.accessKeyId} (version ${delivered.VersionId}) refused: ${(err as Error).name}`;
    } finally {
      signer.destroy();
    }
  } finally {
    sm.destroy();
  }
  return undefined;
}

describe('rotate-secret at fleet scale', () => {
  it(
    `${ACCOUNTS} accounts, 10% throttling: the three kinds rotated at once, every account exactly once, zero failed consumer probes`,
    { timeout: 1_800_000 },
    async () => {
      const before = await vaultVersionsBefore(cfg, accounts);
      const oldKeyIds = Object.fromEntries(
        await mapPool(accounts, 16, async (a) => [
          a.id,
          String((await vaultAt(cfg, vaultPathOf(a, 'iam-access-key'))).data.accessKeyId),
        ]),
      ) as Record<string, string>;
      const statsBefore = await proxyStats(cfg);
      await setFaultPlan(cfg, {
        seed: 8,
        rules: ['secretsmanager', 'iam', 'sts'].map((service) => ({ service, throttleRate: 0.1 })),
        // A new key fails authentication for a second, as AWS's do: the test step waits for it.
        iam: { newKeyDelayMs: 1000 },
      });

      // The consumer probe, on accounts spread over every wave, for as long as the campaigns run.
      const sample = accounts.filter((_, i) => i % Math.floor(ACCOUNTS / PROBE_SAMPLE) === 0).slice(0, PROBE_SAMPLE);
      const failedProbes: string[] = [];
      let rounds = 0;
      let probing = true;
      const prober = (async () => {
        while (probing) {
          const roundStarted = Date.now();
          const failed = await Promise.all(sample.map((a) => probe(a).catch((e: Error) => `probe error ${e.name}`)));
          failed.forEach((f, i) => f && failedProbes.push(`round ${rounds}, ${sample[i].id}: ${f}`));
          rounds++;
          // a round every 2 s at most: a consumer's pace, leaving the stack to the rotations
          await new Promise((r) => setTimeout(r, Math.max(0, PROBE_ROUND_MS - (Date.now() - roundStarted))));
        }
      })();

      const started = Date.now();
      const reports: Record<string, CampaignReport> = {};
      const run = (kind: Kind) => ({
        client: temporal.client,
        taskQueue: TASK_QUEUE,
        fleetFile,
        secret: SECRETS[kind],
        maxInFlight: 30,
        maxFailures: 1,
      });
      try {
        await Promise.all(
          KINDS.map(async (kind) => {
            // A budget in percent: a count would also cap the window (never more in flight than failures allowed).
            reports[kind] = await runRotationCampaign(run(kind), campaignOf(kind), {
              failureBudget: { maxFailurePercent: 20 },
            });
            figures[`${kind}Seconds`] = Math.round((Date.now() - started) / 1000);
          }),
        );
        // The grace ends: every old key deactivated then deleted, every old ExternalId removed.
        const cleanups = await mapPool(accounts, 32, async (a) => {
          const key = await temporal.client.workflow
            .getHandle(secretKeyCleanupId(campaignOf('iam-access-key'), a.id, oldKeyIds[a.id]))
            .result();
          const token = rotationToken(campaignOf('external-id'), a.id, SECRETS['external-id'], 1);
          const xid = await temporal.client.workflow
            .getHandle(externalIdCleanupId(campaignOf('external-id'), a.id, token))
            .result();
          return { key: key as SecretKeyCleanupResult, xid };
        });
        figures.rotationAndCleanupSeconds = Math.round((Date.now() - started) / 1000);
        expect(cleanups.filter((c) => c.key.deactivate !== 'deactivated' || c.key.delete !== 'deleted')).toEqual([]);
        expect(cleanups.filter((c) => c.xid.action !== 'removed')).toEqual([]);
      } finally {
        probing = false;
        await prober;
      }
      const stats = await proxyStats(cfg);
      await setFaultPlan(cfg, null);
      Object.assign(figures, {
        probeRounds: rounds,
        probes: rounds * sample.length,
        failedProbes: failedProbes.length,
        throttled: stats.injected.throttle - statsBefore.injected.throttle,
        awsRequests: stats.requests - statsBefore.requests,
      });

      for (const kind of KINDS) {
        expect(reports[kind].phase, kind).toBe('completed');
        expect(reports[kind].problems, kind).toEqual([]);
        expect(reports[kind].counts, kind).toEqual({ rotated: ACCOUNTS });
      }
      expect(stats.injected.throttle - statsBefore.injected.throttle).toBeGreaterThan(0);
      expect(failedProbes).toEqual([]);
      expect(rounds).toBeGreaterThanOrEqual(50);

      // Every account, every kind: rotated exactly once, old value AWSPREVIOUS, cleanups done.
      const problems = (
        await mapPool(accounts, 12, async (a) => {
          const found: string[] = [];
          const clients = await accountClients(cfg, a); // both secrets are in the account's first region
          for (const kind of KINDS)
            found.push(
              ...(await rotationProblems(cfg, a, kind, {
                campaignId: campaignOf(kind),
                before: before[a.id][kind]!,
                cleanedUp: true,
                clients,
              })),
            );
          return found;
        })
      ).flat();
      expect(problems).toEqual([]);
      figures.totalSeconds = Math.round((Date.now() - started) / 1000);
    },
  );

  it(
    'no value, key secret or ExternalId Vault holds is in any history of these runs or in the worker log',
    { timeout: 300_000 },
    async () => {
      const known = await vaultSecrets(cfg, accounts);
      // per account: 2 collector values, 2 key secrets, 2 ExternalIds (old, new)
      expect(known.secrets.length).toBeGreaterThanOrEqual(ACCOUNTS * 6);
      const scan = await scanHistories(temporal.client, `WorkflowId STARTS_WITH '${RUN}'`, known);
      figures.historiesScanned = scan.histories;
      // 3 campaigns, 3 × 300 children, 300 key cleanups, 300 ExternalId cleanups
      expect(scan.histories).toBeGreaterThanOrEqual(3 + 5 * ACCOUNTS);
      expect(scan.leaks).toEqual([]);
      expect(worker.logLines.length).toBeGreaterThan(0);
      expect(secretsIn(worker.logLines.join('\n'), known.secrets, known.keyIds)).toEqual([]);
    },
  );
});
