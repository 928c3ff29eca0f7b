import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runSimSeed } from '../../cli/commands/sim-seed';
import type { FleetAccount } from '../../fleet';
import { loadFleetFile } from '../../fleet/load-fleet';
import { cancelUpdate, statusQuery, type CampaignStatus } from '../../workflows/campaign/campaign-messages';
import type { CampaignReport } from '../../workflows/campaign/fleet-campaign';
import { externalIdCleanupId } from '../../workflows/rotation/external-id-cleanup';
import { secretKeyCleanupId, type SecretKeyCleanupResult } from '../../workflows/rotation/secret-key-cleanup';
import { rotationToken } from '../../workflows/rotation/uuid-v5';
import { deliveredKeyJson } from '../../activities/rotation/iam-key-vault';
import { cleanUp } from '../support/cleanup';
import { secretsIn } from '../support/history-scan';
import { timeOutLostAttempts } from '../support/lost-attempts';
import {
  SECRETS,
  accountClients,
  rotationProblems,
  scanHistories,
  secretIdOf,
  secretStages,
  sha256,
  vaultAt,
  vaultPathOf,
  vaultSecrets,
  vaultVersionsBefore,
  type Kind,
} from '../support/rotation-state';
import { proxyStats, setFaultPlan, testClient, testStack } from '../support/test-stack';
import { WorkerProcess, until } from '../support/worker-process';

// Chaos for secret rotation: the worker, a separate `fleetops worker --local` process, is killed with
// SIGKILL once inside each step of a rotation (create, set, test, finish, cleanup) and started again.
// A kill lands inside a step by holding that step's AWS request at the proxy (an injected latency, for
// the chosen account only) and killing once the proxy lists it in flight and Temporal shows the step's
// activity running. Every account must end rotated exactly once. Then: a poisoned rotation stops in the
// canary wave; and the real OpenBao is sealed mid-campaign and unsealed, losing nothing.
const cfg = testStack();
const TASK_QUEUE = 'rotation-chaos';
const RUN = `rotchaos-${Date.now()}`;
const ID_BASE = 962_000_000_000 + (Date.now() % 10_000) * 100;
const HOLD_MS = 120_000;

let fleetFile: string;
let accounts: FleetAccount[];
let temporal: Awaited<ReturnType<typeof testClient>>;
const worker = new WorkerProcess(TASK_QUEUE, path.join(cfg.stateDir, 'logs', `rotation-chaos-worker-${ID_BASE}.log`));
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  const seeded = await runSimSeed({
    accounts: 30,
    idBase: ID_BASE,
    out: path.join(cfg.stateDir, `rotation-chaos-${ID_BASE}.yaml`),
    quiet: true,
  });
  fleetFile = seeded.file;
  const doc = YAML.parse(fs.readFileSync(fleetFile, 'utf8'));
  // Short graces, so the key cleanup (the step killed last) runs within the test.
  doc.defaults.secrets[SECRETS['iam-access-key']].graceSeconds = 2;
  doc.defaults.secrets[SECRETS['iam-access-key']].deleteAfterSeconds = 4;
  doc.defaults.secrets[SECRETS['external-id']] = { kind: 'external-id', graceSeconds: 2 };
  // rings: 3 canary, 3 early, the rest general (the poisoned rotation stops in the canary wave)
  doc.accounts.forEach((a: { ring: string }, i: number) => (a.ring = i < 3 ? 'canary' : i < 6 ? 'early' : 'general'));
  fs.writeFileSync(fleetFile, YAML.stringify(doc));
  accounts = loadFleetFile(fleetFile);
  temporal = await testClient(cfg);
}, 300_000);

afterAll(async () => {
  process.stderr.write(`[rotation-chaos] ${JSON.stringify(figures)}\n`);
  await cleanUp({
    vault: () => unseal(),
    worker: () => worker.kill9(),
    faults: () => setFaultPlan(cfg, null),
    temporal: () => temporal?.close(),
  });
});

type Step = 'create' | 'set' | 'test' | 'finish' | 'cleanup';
/** One account's rotation of one kind, to be killed inside `step` while `service:action` is held. */
type Target = { account: FleetAccount; kind: Kind; step: Step; service: string; action: string; activity: string };
type Kill = {
  step: Step;
  workerPid: number;
  held: Array<{ account: string; kind: Kind; request: string; heldMs: number; activity: string; attempt: number }>;
  /** Other AWS requests in flight at the kill (other accounts' steps hit by the same kill). */
  alsoInFlight: string[];
  /** Every activity attempt the killed worker was running (timed out at once, retried by the next worker). */
  lostAttempts?: string[];
};

const campaignIds: Record<string, string> = {};
const campaignKey = (t: Pick<Target, 'account' | 'kind'>) => `${t.account.id}/${t.kind}`;

/** A campaign rotating `kind` in the given accounts only (started, not awaited). */
async function startRotation(kind: Kind, ids: string[], name: string, maxInFlight = 5) {
  const campaignId = `${RUN}-${name}`;
  for (const id of ids) campaignIds[`${id}/${kind}`] = campaignId;
  return temporal.client.workflow.start('fleetCampaign', {
    taskQueue: TASK_QUEUE,
    workflowId: campaignId,
    args: [
      {
        operation: 'rotate-secret',
        fleetFile,
        select: { ids },
        maxInFlight,
        // as many failures allowed as accounts in flight: a smaller count would shrink the window
        failureBudget: { maxFailures: maxInFlight },
        rotation: { secret: SECRETS[kind], healthBakeSeconds: 0 },
      },
    ],
  });
}

/** The workflow that runs the target's step: its rotation, or for `cleanup` the old key's cleanup. */
function stepWorkflowId(t: Target, oldKeyId?: string): string {
  const campaignId = campaignIds[campaignKey(t)];
  return t.step === 'cleanup'
    ? secretKeyCleanupId(campaignId, t.account.id, oldKeyId!)
    : `${campaignId}/${t.account.id}`;
}

const kills: Kill[] = [];
const oldKeyIds: Record<string, string> = {};

/**
 * Holds each target's step request at the proxy, runs `start` (which gets the targets there), waits
 * until every held request is in flight and Temporal shows the step's activity running, then kills
 * the worker with SIGKILL, lifts the hold and starts the worker again.
 */
async function killInside(step: Step, targets: Target[], start: () => Promise<unknown>): Promise<void> {
  await setFaultPlan(cfg, {
    rules: targets.map((t) => ({
      service: t.service,
      actions: [t.action],
      accounts: [t.account.id],
      latencyMs: HOLD_MS,
    })),
  });
  await start();
  const isHeld = (t: Target, r: { service: string; action: string; account: string }) =>
    r.service === t.service && r.action === t.action && r.account === t.account.id;
  await until(
    `${step}: the held requests in flight`,
    async () => {
      const inFlight = (await proxyStats(cfg)).inFlight;
      return targets.every((t) => inFlight.some((r) => isHeld(t, r)));
    },
    90_000,
  );
  const inFlight = (await proxyStats(cfg)).inFlight;
  const held = await Promise.all(
    targets.map(async (t) => {
      const described = await temporal.client.workflow.getHandle(stepWorkflowId(t, oldKeyIds[t.account.id])).describe();
      const running = (described.raw.pendingActivities ?? []).map((a) => ({
        activity: a.activityType?.name ?? '?',
        attempt: a.attempt ?? 0,
      }));
      return {
        account: t.account.id,
        kind: t.kind,
        request: `${t.service}:${t.action}`,
        heldMs: inFlight.find((r) => isHeld(t, r))!.ms,
        activity: running.map((r) => r.activity).join(','),
        attempt: running[0]?.attempt ?? 0,
      };
    }),
  );
  const workerPid = worker.starts().at(-1)!.pid;
  await worker.kill9();
  const alsoInFlight = inFlight
    .filter((r) => !targets.some((t) => isHeld(t, r)))
    .map((r) => `${r.account} ${r.service}:${r.action}`);
  kills.push({ step, workerPid, held, alsoInFlight });
  await setFaultPlan(cfg, null);
  const lost = await timeOutLostAttempts(temporal.client, {
    workflowIdPrefix: RUN,
    workerPid,
    identity: 'rotation-chaos-test',
  });
  for (const t of targets) {
    const id = stepWorkflowId(t, oldKeyIds[t.account.id]);
    if (!lost.some((l) => l.startsWith(`${id} `)))
      throw new Error(`${step}: ${id} had no attempt on the killed worker`);
  }
  kills.at(-1)!.lostAttempts = lost.map((l) => l.slice(RUN.length + 1));
  const restarted = await worker.start();
  figures.workerRestartSeconds = [...((figures.workerRestartSeconds as number[]) ?? []), restarted.seconds];
}

/** Key ids the rotation made and deleted before Vault ever held them (may be named in a history, by id). */
const keysMadeOutsideVault: string[] = [];

/** The completed `activity` runs of a workflow: the attempt that completed and its decoded result. */
async function activityResults(
  workflowId: string,
  activity: string,
): Promise<Array<{ attempt: number; result: unknown }>> {
  const events = (await temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const out: Array<{ attempt: number; result: unknown }> = [];
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) continue;
    const scheduled = events.find((x) => Number(x.eventId) === Number(done.scheduledEventId));
    const started = events.find((x) => Number(x.eventId) === Number(done.startedEventId));
    if (scheduled?.activityTaskScheduledEventAttributes?.activityType?.name !== activity) continue;
    const payload = done.result?.payloads?.[0]?.data;
    out.push({
      attempt: started?.activityTaskStartedEventAttributes?.attempt ?? 0,
      result: payload ? JSON.parse(Buffer.from(payload).toString('utf8')) : undefined,
    });
  }
  return out;
}

function target(i: number, kind: Kind, step: Step, service: string, action: string, activity: string): Target {
  return { account: accounts[i], kind, step, service, action, activity };
}

/** Vault's unseal key, as the OpenBao dev server prints it in its log. */
function unsealKey(): string {
  const log = fs.readFileSync(path.join(cfg.stateDir, 'logs', 'vault.log'), 'utf8');
  const keys = [...log.matchAll(/^Unseal Key: (\S+)$/gm)].map((m) => m[1]);
  if (!keys.length) throw new Error('no "Unseal Key:" line in the OpenBao dev server log');
  return keys.at(-1)!;
}

async function vaultSys(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${cfg.vaultAddr}/v1/sys/${route}`, {
    method,
    headers: { 'X-Vault-Token': cfg.vaultDevToken, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function sealed(): Promise<boolean> {
  return (await vaultSys('GET', 'seal-status')).json.sealed === true;
}

async function unseal(): Promise<void> {
  if (!(await sealed())) return;
  const res = await vaultSys('PUT', 'unseal', { key: unsealKey() });
  if (res.json.sealed !== false) throw new Error(`OpenBao did not unseal (HTTP ${res.status})`);
  await until(
    'OpenBao to serve KV again',
    async () => (await fetch(`${cfg.vaultAddr}/v1/sys/health`)).status === 200,
    30_000,
  );
}

describe('rotation chaos', () => {
  it(
    'the worker SIGKILLed inside create, set, test, finish and cleanup: every account rotated exactly once',
    { timeout: 600_000 },
    async () => {
      const started = Date.now();
      const before = await vaultVersionsBefore(cfg, accounts.slice(0, 8));
      for (const a of accounts.slice(0, 8))
        oldKeyIds[a.id] = String((await vaultAt(cfg, vaultPathOf(a, 'iam-access-key'))).data.accessKeyId);
      const targets = {
        // secretsmanager: Vault written, PutSecretValue held; iam-access-key: key made and in Vault, its pair's PutSecretValue held
        create: [
          target(0, 'secretsmanager', 'create', 'secretsmanager', 'PutSecretValue', 'rotationCreatePending'),
          target(1, 'iam-access-key', 'create', 'secretsmanager', 'PutSecretValue', 'iamKeyCreate'),
        ],
        set: [target(2, 'external-id', 'set', 'iam', 'UpdateAssumeRolePolicy', 'externalIdSet')],
        test: [
          target(3, 'iam-access-key', 'test', 'sts', 'GetCallerIdentity', 'iamKeyTest'),
          target(4, 'secretsmanager', 'test', 'secretsmanager', 'GetSecretValue', 'rotationTestPending'),
        ],
        finish: [
          target(5, 'secretsmanager', 'finish', 'secretsmanager', 'UpdateSecretVersionStage', 'rotationFinish'),
          target(6, 'iam-access-key', 'finish', 'secretsmanager', 'UpdateSecretVersionStage', 'iamKeyFinish'),
        ],
        cleanup: [target(7, 'iam-access-key', 'cleanup', 'iam', 'UpdateAccessKey', 'iamKeyDeactivate')],
      } satisfies Record<Step, Target[]>;
      const all = Object.values(targets).flat();

      await worker.start();
      // One campaign per (step, kind), started when the worker that is to be killed runs.
      const startFor = (step: Step) => async () => {
        const kinds = [...new Set(targets[step].map((t) => t.kind))];
        for (const kind of kinds) {
          const ids = targets[step].filter((t) => t.kind === kind).map((t) => t.account.id);
          await startRotation(kind, ids, `${step}-${kind}`);
        }
      };
      for (const step of ['create', 'set', 'test', 'finish', 'cleanup'] as const)
        await killInside(step, targets[step], startFor(step));
      figures.killsDoneSeconds = Math.round((Date.now() - started) / 1000);

      // Every campaign completes, every account rotated; the killed steps were retried by the next worker.
      const reports: CampaignReport[] = await Promise.all(
        [...new Set(Object.values(campaignIds))].map((id) => temporal.client.workflow.getHandle(id).result()),
      );
      for (const r of reports) {
        expect(r.phase).toBe('completed');
        expect(r.problems).toEqual([]);
        expect(Object.keys(r.counts)).toEqual(['rotated']);
      }
      // The cleanups: the old key deactivated then deleted (the killed one too), the old ExternalId removed.
      const cleanupResults: string[] = [];
      for (const t of all.filter((x) => x.kind === 'iam-access-key')) {
        const result: SecretKeyCleanupResult = await temporal.client.workflow
          .getHandle(secretKeyCleanupId(campaignIds[campaignKey(t)], t.account.id, oldKeyIds[t.account.id]))
          .result();
        // 'already-done': an attempt lost in a kill had done it (the key's final state is checked below)
        expect(['deactivated', 'already-done']).toContain(result.deactivate);
        expect(['deleted', 'already-done']).toContain(result.delete);
        cleanupResults.push(`${t.account.id}: ${result.deactivate}, ${result.delete}`);
      }
      const xid = targets.set[0];
      const xidToken = rotationToken(campaignIds[campaignKey(xid)], xid.account.id, SECRETS['external-id'], 1);
      expect(
        await temporal.client.workflow
          .getHandle(externalIdCleanupId(campaignIds[campaignKey(xid)], xid.account.id, xidToken))
          .result(),
      ).toEqual({ action: 'removed' });
      figures.chaosSeconds = Math.round((Date.now() - started) / 1000);
      figures.keyCleanups = cleanupResults;
      figures.kills = kills.map((k) => ({
        step: k.step,
        held: k.held.map((h) => `${h.account} ${h.activity}#${h.attempt} ${h.request} held ${h.heldMs} ms`),
        alsoInFlight: k.alsoInFlight,
        lostAttempts: k.lostAttempts,
      }));

      // Each kill landed inside its step: the step's request held in flight, the step's activity running.
      expect(kills.map((k) => k.step)).toEqual(['create', 'set', 'test', 'finish', 'cleanup']);
      for (const k of kills) {
        for (const [i, h] of k.held.entries()) {
          const t = targets[k.step][i];
          expect(h.activity, `${k.step} ${h.account}`).toBe(t.activity);
          expect(h.heldMs, `${k.step} ${h.account}`).toBeLessThan(HOLD_MS);
        }
      }
      // Six worker processes (five killed), each a new pid.
      expect(new Set(worker.starts().map((s) => s.pid)).size).toBe(6);
      expect(new Set(kills.map((k) => k.workerPid)).size).toBe(5);

      // Exactly once: one new Vault version (two for external-id: pending, live), AWSCURRENT on it,
      // AWSPREVIOUS the old value, no AWSPENDING left, one key (the new one) after the cleanup.
      const problems: string[] = [];
      for (const t of all) {
        problems.push(
          ...(await rotationProblems(cfg, t.account, t.kind, {
            campaignId: campaignIds[campaignKey(t)],
            before: before[t.account.id][t.kind]!,
            cleanedUp: true,
          })),
        );
      }
      expect(problems).toEqual([]);
    },
  );

  it(
    'a poisoned rotation (stale version reads in the canary wave) rolls back, uses up the budget and stops in the canary wave',
    { timeout: 180_000 },
    async () => {
      const canary = accounts.filter((a) => a.ring === 'canary');
      const later = accounts.filter((a) => a.ring !== 'canary' && !accounts.slice(0, 8).includes(a));
      const versionsBefore = await vaultVersionsBefore(cfg, [...canary, ...later], ['secretsmanager']);
      const stagesBefore = Object.fromEntries(
        await Promise.all(
          canary.map(async (a) => [
            a.id,
            await secretStages((await accountClients(cfg, a)).sm, secretIdOf(a, 'secretsmanager')),
          ]),
        ),
      );
      await setFaultPlan(cfg, { rules: [], secretsmanager: { staleVersionReadsFor: canary.map((a) => a.id) } });
      const campaignId = `${RUN}-poisoned`;
      const handle = await temporal.client.workflow.start('fleetCampaign', {
        taskQueue: TASK_QUEUE,
        workflowId: campaignId,
        args: [
          {
            operation: 'rotate-secret',
            fleetFile,
            select: { ids: [...canary, ...later].map((a) => a.id) },
            maxInFlight: 3,
            failureBudget: { maxFailures: 2 },
            rotation: { secret: SECRETS.secretsmanager, healthBakeSeconds: 0 },
          },
        ],
      });
      let status: CampaignStatus = await handle.query(statusQuery);
      await until(
        'the poisoned campaign to pause',
        async () => {
          status = await handle.query(statusQuery);
          return status.phase === 'paused' && status.inFlight === 0;
        },
        120_000,
      );
      await setFaultPlan(cfg, null);
      expect(status.currentWave).toBe('canary-1');
      expect(status.phaseReason).toMatch(/failure budget of wave canary-1 used up/);
      const rolledBack = status.problems.filter((p) => p.state === 'rolled-back');
      expect(rolledBack.length).toBeGreaterThanOrEqual(2);
      expect(rolledBack.every((p) => p.errorType === 'SecretTestFailed')).toBe(true);
      expect(status.waves[0].failures).toBe(rolledBack.length);
      expect(status.counts.pending).toBe(canary.length + later.length - rolledBack.length);
      figures.poisoned = { counts: status.counts, phaseReason: status.phaseReason };

      // The rolled-back accounts: old value still AWSCURRENT, no AWSPENDING; every later-wave account untouched.
      for (const p of rolledBack) {
        const a = canary.find((c) => c.id === p.accountId)!;
        const now = await secretStages((await accountClients(cfg, a)).sm, secretIdOf(a, 'secretsmanager'));
        expect(now.current).toBe(stagesBefore[a.id].current);
        expect(now.currentHash === stagesBefore[a.id].currentHash).toBe(true);
        expect(now.pending).toBeUndefined();
      }
      const versionsAfter = await vaultVersionsBefore(cfg, later, ['secretsmanager']);
      for (const a of later) expect(versionsAfter[a.id].secretsmanager).toBe(versionsBefore[a.id].secretsmanager);
      for (const a of later)
        await expect(temporal.client.workflow.getHandle(`${campaignId}/${a.id}`).describe()).rejects.toThrow(
          /not found/i,
        );
      expect((await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'poisoned rotation' }] })).phase).toBe(
        'cancelling',
      );
      expect((await handle.result()).phase).toBe('cancelled');
    },
  );

  it(
    'OpenBao sealed mid-campaign (one IAM key created while sealed): activities retry, every campaign completes after the unseal, AWSCURRENT always a value Vault holds',
    { timeout: 300_000 },
    async () => {
      const smAccounts = accounts.slice(8);
      const [keyHeld, ...keyOthers] = accounts.slice(8, 11);
      const xidAccounts = accounts.slice(11, 13);
      const kindsOf = (a: FleetAccount): Kind[] => [
        'secretsmanager',
        ...(a === keyHeld || keyOthers.includes(a) ? (['iam-access-key'] as const) : []),
        ...(xidAccounts.includes(a) ? (['external-id'] as const) : []),
      ];
      const before = await vaultVersionsBefore(cfg, smAccounts);
      for (const a of [keyHeld, ...keyOthers])
        oldKeyIds[a.id] = String((await vaultAt(cfg, vaultPathOf(a, 'iam-access-key'))).data.accessKeyId);
      const clients = Object.fromEntries(
        await Promise.all(smAccounts.map(async (a) => [a.id, await accountClients(cfg, a)] as const)),
      );
      const sm = await startRotation(
        'secretsmanager',
        smAccounts.map((a) => a.id),
        'vault-sealed-secretsmanager',
      );
      await until(
        'a few accounts rotated before the seal',
        async () => ((await sm.query(statusQuery)).counts.rotated ?? 0) >= 3,
        120_000,
      );
      // Vault is sealed while one account's CreateAccessKey is in flight (held 4 s at the proxy): the
      // key is made in AWS, and writing it to Vault — the next thing the step does — finds Vault sealed.
      await setFaultPlan(cfg, {
        rules: [{ service: 'iam', actions: ['CreateAccessKey'], accounts: [keyHeld.id], latencyMs: 4000 }],
      });
      const others = [
        await startRotation(
          'iam-access-key',
          [keyHeld, ...keyOthers].map((a) => a.id),
          'vault-sealed-iam-access-key',
        ),
        await startRotation(
          'external-id',
          xidAccounts.map((a) => a.id),
          'vault-sealed-external-id',
        ),
      ];
      await until(
        "the held account's CreateAccessKey in flight",
        async () =>
          (await proxyStats(cfg)).inFlight.some((r) => r.action === 'CreateAccessKey' && r.account === keyHeld.id),
        60_000,
      );
      const sealedAt = Date.now();
      const seenWhileSealed: Record<string, Set<string>> = {};
      let atSeal: CampaignStatus | undefined;
      /** Steps seen retrying with VaultUnavailable while Vault was sealed. */
      const retrying = new Set<string>();
      try {
        const res = await vaultSys('PUT', 'seal');
        expect(res.status).toBe(204);
        expect(await sealed()).toBe(true);
        // While Vault is sealed: rotations stall (steps retry), and what AWS holds is recorded to be
        // compared with Vault once it is back.
        while (Date.now() - sealedAt < 12_000) {
          atSeal = await sm.query(statusQuery);
          const running = temporal.client.workflow.list({
            query: `WorkflowId STARTS_WITH '${RUN}-vault-sealed' AND ExecutionStatus = 'Running'`,
          });
          for await (const wf of running) {
            const described = await temporal.client.workflow.getHandle(wf.workflowId).describe();
            for (const a of described.raw.pendingActivities ?? [])
              if (a.lastFailure?.applicationFailureInfo?.type === 'VaultUnavailable')
                retrying.add(`${wf.workflowId.slice(RUN.length + 1)} ${a.activityType?.name}`);
          }
          for (const a of smAccounts) {
            for (const kind of kindsOf(a).filter((k) => k !== 'external-id')) {
              const s = await secretStages(clients[a.id].sm, secretIdOf(a, kind));
              (seenWhileSealed[`${a.id}/${kind}`] ??= new Set()).add(s.currentHash);
            }
          }
        }
      } finally {
        await unseal();
        await setFaultPlan(cfg, null);
      }
      figures.vaultSealedSeconds = Math.round((Date.now() - sealedAt) / 1000);
      const reports: CampaignReport[] = await Promise.all([sm, ...others].map((h) => h.result()));
      figures.vaultCampaigns = {
        counts: reports.map((r) => r.counts),
        smAtSeal: atSeal?.counts,
        stepsRetryingWhileSealed: [...retrying],
      };
      expect(retrying.size).toBeGreaterThan(0);
      expect([...retrying].some((r) => r.includes(keyHeld.id) && r.endsWith('iamKeyCreate'))).toBe(true);
      for (const r of reports) {
        expect(r.phase).toBe('completed');
        expect(Object.keys(r.counts)).toEqual(['rotated']);
      }
      expect(atSeal?.counts.rotated ?? 0).toBeLessThan(smAccounts.length);

      // The key made while Vault was sealed never reached Vault: the retried step deleted it and made another.
      for (const a of [keyHeld, ...keyOthers]) {
        const create = await activityResults(`${RUN}-vault-sealed-iam-access-key/${a.id}`, 'iamKeyCreate');
        expect(create).toHaveLength(1);
        const { deletedKeyIds } = create[0].result as { deletedKeyIds: string[] };
        keysMadeOutsideVault.push(...deletedKeyIds);
        if (a === keyHeld) {
          expect(create[0].attempt).toBeGreaterThan(1);
          expect(deletedKeyIds).toHaveLength(1);
        }
      }
      figures.keysMadeWhileSealedAndDeleted = keysMadeOutsideVault.length;
      for (const a of [keyHeld, ...keyOthers])
        await temporal.client.workflow
          .getHandle(secretKeyCleanupId(`${RUN}-vault-sealed-iam-access-key`, a.id, oldKeyIds[a.id]))
          .result();
      for (const a of xidAccounts) {
        const token = rotationToken(`${RUN}-vault-sealed-external-id`, a.id, SECRETS['external-id'], 1);
        await temporal.client.workflow
          .getHandle(externalIdCleanupId(`${RUN}-vault-sealed-external-id`, a.id, token))
          .result();
      }

      // No AWSCURRENT (seen while sealed, or now) that Vault does not hold; every account rotated exactly once.
      const problems: string[] = [];
      for (const a of smAccounts) {
        for (const kind of kindsOf(a)) {
          if (kind !== 'external-id') {
            const path = vaultPathOf(a, kind);
            const latest = await vaultAt(cfg, path);
            const held = new Set<string>();
            for (let v = 1; v <= latest.version; v++) {
              const { data } = await vaultAt(cfg, path, v);
              held.add(
                sha256(
                  kind === 'secretsmanager'
                    ? data.value
                    : deliveredKeyJson({
                        accessKeyId: String(data.accessKeyId),
                        secretAccessKey: String(data.secretAccessKey),
                      }),
                ),
              );
            }
            for (const h of seenWhileSealed[`${a.id}/${kind}`])
              if (!held.has(h)) problems.push(`${a.id} ${kind}: an AWSCURRENT seen while sealed is not in Vault`);
          }
          problems.push(
            ...(await rotationProblems(cfg, a, kind, {
              campaignId: `${RUN}-vault-sealed-${kind}`,
              before: before[a.id][kind]!,
              cleanedUp: true,
              clients: clients[a.id],
            })),
          );
        }
      }
      expect(problems).toEqual([]);
    },
  );

  it(
    'no value, key secret or ExternalId Vault holds is in any history of these runs or the worker log',
    { timeout: 120_000 },
    async () => {
      const known = await vaultSecrets(cfg, accounts);
      known.keyIds.push(...keysMadeOutsideVault); // ids only: named in the iamKeyCreate result that deleted them
      const scan = await scanHistories(temporal.client, `WorkflowId STARTS_WITH '${RUN}'`, known);
      figures.historiesScanned = scan.histories;
      expect(scan.histories).toBeGreaterThan(20);
      expect(scan.leaks).toEqual([]);
      expect(secretsIn(worker.log(), known.secrets, known.keyIds)).toEqual([]);
    },
  );
});
