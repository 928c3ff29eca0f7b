/**
 * Secrets Manager calls in a customer account, inside the rate budgets (family `secretsmanager`).
 * A value goes in (PutSecretValue) or is hashed on the way out (GetSecretValue): no function here
 * returns, logs or puts into an error a secret value.
 */
import { createHash } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { AccountAwsDeps, AccountRegion } from './account-region';
import { callAws } from './aws-call';

/** A secret's versions and their staging labels (VersionId → stages), never a value. */
export type SecretVersionStages = { secretId: string; versions: Record<string, string[]> };

type SecretCall = AccountRegion & { secretId: string };

function client(deps: AccountAwsDeps, { account, region, runId }: AccountRegion): SecretsManagerClient {
  return deps.clients.secretsManager(region, deps.credentials.provider(account, runId), `${account.id}/${runId}`);
}

function call<T>(deps: AccountAwsDeps, req: AccountRegion, api: string, send: () => Promise<T>): Promise<T> {
  return callAws(deps.limits, { family: 'secretsmanager', api, region: req.region, accountId: req.account.id }, send);
}

/** SHA-256 (hex) of a secret string: what crosses an activity boundary instead of the value. */
export function secretHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** DescribeSecret: every version's staging labels. */
export async function describeSecretVersions(deps: AccountAwsDeps, req: SecretCall): Promise<SecretVersionStages> {
  const sm = client(deps, req);
  const out = await call(deps, req, 'DescribeSecret', () =>
    sm.send(new DescribeSecretCommand({ SecretId: req.secretId })),
  );
  return { secretId: req.secretId, versions: { ...(out.VersionIdsToStages ?? {}) } };
}

/** ListSecretVersionIds: when the AWSCURRENT version was created (ISO time; undefined when AWS gives none). */
export async function currentVersionCreatedAt(deps: AccountAwsDeps, req: SecretCall): Promise<string | undefined> {
  const sm = client(deps, req);
  let nextToken: string | undefined;
  do {
    const page = await call(deps, req, 'ListSecretVersionIds', () =>
      sm.send(new ListSecretVersionIdsCommand({ SecretId: req.secretId, NextToken: nextToken })),
    );
    const current = (page.Versions ?? []).find((v) => v.VersionStages?.includes('AWSCURRENT'));
    if (current) return current.CreatedDate ? new Date(current.CreatedDate).toISOString() : undefined;
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}

/** The version holding `stage` (AWSCURRENT, AWSPENDING, AWSPREVIOUS), if any. */
export function versionWithStage(state: SecretVersionStages, stage: string): string | undefined {
  return Object.entries(state.versions).find(([, stages]) => stages.includes(stage))?.[0];
}

/** PutSecretValue of `value` as a new version `token` labelled AWSPENDING only (AWSCURRENT stays where it is). */
export async function putPendingVersion(
  deps: AccountAwsDeps,
  req: SecretCall & { token: string; value: string },
): Promise<{ versionId: string }> {
  const sm = client(deps, req);
  const out = await call(deps, req, 'PutSecretValue', () =>
    sm.send(
      new PutSecretValueCommand({
        SecretId: req.secretId,
        SecretString: req.value,
        ClientRequestToken: req.token,
        VersionStages: ['AWSPENDING'],
      }),
    ),
  );
  return { versionId: out.VersionId ?? req.token };
}

/** GetSecretValue of one version by VersionId, hashed; null when it holds no string. */
export async function readVersionHash(
  deps: AccountAwsDeps,
  req: SecretCall & { versionId: string },
): Promise<string | null> {
  const sm = client(deps, req);
  const out = await call(deps, req, 'GetSecretValue', () =>
    sm.send(new GetSecretValueCommand({ SecretId: req.secretId, VersionId: req.versionId })),
  );
  return typeof out.SecretString === 'string' ? secretHash(out.SecretString) : null;
}

/** UpdateSecretVersionStage: moves `stage` to `moveTo` (from `removeFrom`), or only removes it from `removeFrom`. */
export async function moveVersionStage(
  deps: AccountAwsDeps,
  req: SecretCall & { stage: string; moveTo?: string; removeFrom?: string },
): Promise<void> {
  const sm = client(deps, req);
  await call(deps, req, 'UpdateSecretVersionStage', () =>
    sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: req.secretId,
        VersionStage: req.stage,
        ...(req.moveTo ? { MoveToVersionId: req.moveTo } : {}),
        ...(req.removeFrom ? { RemoveFromVersionId: req.removeFrom } : {}),
      }),
    ),
  );
}
