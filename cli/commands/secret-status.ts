/**
 * `fleetops secret status ACCOUNT [NAME]`: one account's secrets from the fleet file, as Vault and AWS
 * hold them — the live record (Vault version, rotated-at, campaign), the value's current Vault version
 * (metadata only), Secrets Manager version ids and stages, IAM key ids and states — with every
 * inconsistency flagged. Reads through the worker's own paths: its Vault login (VaultSession), and
 * AssumeRole with the account's ExternalId (AccountCredentials). Never reads a Secrets Manager value;
 * the only Vault value read is the ExternalId AssumeRole needs, which stays in this process.
 */
import path from 'node:path';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { AccountCredentials } from '../../activities/aws/account-credentials';
import type { AccountAwsDeps } from '../../activities/aws/account-region';
import { callAws } from '../../activities/aws/aws-call';
import { AwsClients } from '../../activities/aws/aws-clients';
import { RateLimits } from '../../activities/aws/rate-limiter';
import { readTrustPolicy, roleNameOf } from '../../activities/aws/iam-trust-policy';
import { describeSecretVersions } from '../../activities/aws/secretsmanager';
import { ExternalIdVault } from '../../activities/rotation/external-id-vault';
import { TrustPolicyExternalIds } from '../../activities/rotation/trust-policy-external-ids';
import { ExternalIdCache } from '../../activities/vault/external-id-cache';
import { VaultError } from '../../activities/vault/vault-errors';
import { VaultKv } from '../../activities/vault/vault-kv';
import { VaultSession } from '../../activities/vault/vault-session';
import { ErrorType } from '../../fleet/error-types';
import { resolveAccountSecrets, type ResolvedSecret } from '../../fleet/fleet-secrets';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { loadFleetFile } from '../../fleet/load-fleet';
import { SecretLiveRecordSchema, secretLiveRecordPath, secretValueRef } from '../../fleet/secret-vault-layout';
import { loadStackConfig } from '../../stack/stack-config';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/worker-config';
import { useLocalStackEnv } from '../local-env';
import {
  formatSecretStatus,
  secretStatusJson,
  secretStatusProblems,
  type SecretStatus,
  type SecretStatusReport,
} from './secret-status-format';

export type SecretStatusOptions = { fleet?: string; json?: boolean; local?: boolean };

/** A request the command refuses (unknown account or secret, Vault unreachable): exit 1 with this message. */
export class SecretStatusError extends Error {
  override readonly name = 'SecretStatusError';
}

const STAGE_ORDER = ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'];
const stageRank = (stages: string[]) => {
  const ranks = stages.map((s) => STAGE_ORDER.indexOf(s)).filter((r) => r >= 0);
  return ranks.length ? Math.min(...ranks) : STAGE_ORDER.length;
};

/** Reads the status; prints it (text or JSON) and returns it. Throws SecretStatusError on a bad request. */
export async function runSecretStatus(
  accountId: string,
  name: string | undefined,
  o: SecretStatusOptions,
): Promise<SecretStatusReport> {
  if (o.local) useLocalStackEnv(loadStackConfig());
  const fleetFile = o.fleet ?? process.env.FLEETOPS_FLEET_FILE ?? defaultFleetFile(o.local);
  const account = loadFleetFile(fleetFile).find((a) => a.id === accountId);
  if (!account) throw new SecretStatusError(`account ${accountId} is not in the fleet file ${fleetFile}`);
  const secrets = resolveAccountSecrets(account);
  const names = Object.keys(secrets);
  if (name !== undefined && !secrets[name]) {
    throw new SecretStatusError(
      `account ${accountId} has no secret "${name}" in ${fleetFile}; its secrets: ${names.join(', ') || '(none)'}`,
    );
  }
  const wanted = name !== undefined ? [secrets[name]] : Object.values(secrets);

  // The worker's configuration pieces; the fleet locations only matter to workers.
  const config = loadWorkerConfig({
    ...process.env,
    FLEETOPS_FLEET_DIRS: process.env.FLEETOPS_FLEET_DIRS || path.dirname(path.resolve(fleetFile)),
  });
  const session = new VaultSession(config.vault);
  const clients = new AwsClients({ endpoint: config.awsEndpoint, homeRegion: config.awsRegion });
  try {
    const reader = new StatusReader(config, session, clients);
    const readAt = new Date().toISOString();
    const statuses: SecretStatus[] = [];
    for (const secret of wanted) statuses.push(await reader.read(account, secret));
    const report: SecretStatusReport = { accountId, fleetFile, readAt, secrets: statuses };
    process.stdout.write(
      o.json ? `${JSON.stringify(secretStatusJson(report), null, 2)}\n` : formatSecretStatus(report),
    );
    return report;
  } catch (err) {
    if (err instanceof VaultError && err.name === ErrorType.VaultUnavailable) {
      throw new SecretStatusError(
        `Vault is unreachable or sealed at VAULT_ADDR=${config.vault.endpoint}: ${err.message} (see docs/runbooks/vault-sealed-or-unreachable.md)`,
      );
    }
    throw err;
  } finally {
    session.stop();
    clients.destroy();
  }
}

function defaultFleetFile(local?: boolean): string {
  return local ? path.join(loadStackConfig().stateDir, 'fleet.yaml') : '.fleetops/fleet.yaml';
}

/** Problems in a report, all secrets together (for callers that check the outcome). */
export function reportProblems(report: SecretStatusReport): string[] {
  return report.secrets.flatMap((s) => secretStatusProblems(s).map((p) => `${s.name}: ${p}`));
}

class StatusReader {
  private readonly vault: VaultKv;
  private readonly aws: AccountAwsDeps;
  private readonly runId = 'secret-status';

  constructor(
    private readonly config: WorkerConfig,
    session: VaultSession,
    private readonly clients: AwsClients,
  ) {
    this.vault = new VaultKv(session);
    const limits = new RateLimits(config.rateBudgets);
    const credentials = new AccountCredentials({
      sts: clients.sts(),
      stsRegion: config.awsRegion,
      externalIds: new ExternalIdCache(this.vault),
      limits,
    });
    this.aws = { clients, credentials, limits };
  }

  async read(account: FleetAccount, secret: ResolvedSecret): Promise<SecretStatus> {
    const valueRef = secretValueRef(account, secret.name, secret.kind);
    const status: SecretStatus = {
      name: secret.name,
      kind: secret.kind,
      valueRef,
      valueVersion: null,
      live: await this.liveRecord(account.id, secret.name),
    };
    try {
      status.valueVersion = (await this.vault.readMetadata(valueRef))?.currentVersion ?? null;
    } catch (err) {
      if (!(err instanceof VaultError) || err.name === ErrorType.VaultUnavailable) throw err;
      status.valueVersionError = err.message;
    }
    if (secret.kind === 'external-id') {
      try {
        status.trust = await this.trust(account);
      } catch (err) {
        if (err instanceof VaultError && err.name === ErrorType.VaultUnavailable) throw err;
        status.awsError = `${(err as Error).name}: ${(err as Error).message}`;
      }
      return status;
    }
    status.region = secret.region;
    status.secretId = secret.kind === 'secretsmanager' ? secret.secretId : secret.deliverTo;
    if (secret.kind === 'iam-access-key') status.userName = secret.userName;
    try {
      const described = await describeSecretVersions(this.aws, {
        account,
        region: secret.region,
        runId: this.runId,
        secretId: status.secretId,
      });
      status.awsVersions = Object.entries(described.versions)
        .map(([versionId, stages]) => ({ versionId, stages: [...stages].sort() }))
        .sort((a, b) => stageRank(a.stages) - stageRank(b.stages) || a.versionId.localeCompare(b.versionId));
      if (secret.kind === 'iam-access-key') status.accessKeys = await this.accessKeys(account, secret.userName);
    } catch (err) {
      if (err instanceof VaultError && err.name === ErrorType.VaultUnavailable) throw err;
      status.awsError = `${(err as Error).name}: ${(err as Error).message}`;
    }
    return status;
  }

  /** The trust policy's ExternalIds compared with Vault's (in this process; only counts and booleans leave). */
  private async trust(account: FleetAccount): Promise<NonNullable<SecretStatus['trust']>> {
    const { entry } = await new ExternalIdVault(this.vault).latest(account.externalIdRef);
    const document = await readTrustPolicy(this.aws, { account, runId: this.runId });
    const policy = new TrustPolicyExternalIds(document, account.roleArn);
    return {
      role: roleNameOf(account.roleArn),
      acceptedIds: policy.accepted().length,
      acceptsCurrent: policy.accepts(entry.externalId),
      pendingInVault: entry.pendingExternalId !== undefined,
      ...(entry.pendingExternalId !== undefined ? { acceptsPending: policy.accepts(entry.pendingExternalId) } : {}),
    };
  }

  private async liveRecord(accountId: string, name: string): Promise<SecretStatus['live']> {
    const found = await this.vault.readSecretVersion(secretLiveRecordPath(accountId, name));
    const parsed = SecretLiveRecordSchema.safeParse(found?.data);
    if (!found || !parsed.success) return null;
    const r = parsed.data;
    return {
      vaultVersion: r.vaultVersion,
      rotatedAt: r.rotatedAt,
      campaignId: r.campaignId,
      ...(r.awsVersionId ? { awsVersionId: r.awsVersionId } : {}),
      ...(r.accessKeyId ? { accessKeyId: r.accessKeyId } : {}),
      recordVersion: found.version,
    };
  }

  private async accessKeys(account: FleetAccount, userName: string): Promise<SecretStatus['accessKeys']> {
    // IAM is global: its endpoint is the home region's.
    const iam = new IAMClient({
      region: this.config.awsRegion,
      maxAttempts: 1,
      credentials: this.aws.credentials.provider(account, this.runId),
      ...(this.config.awsEndpoint ? { endpoint: this.config.awsEndpoint } : {}),
    });
    try {
      const keys: NonNullable<SecretStatus['accessKeys']> = [];
      let marker: string | undefined;
      do {
        const page = await callAws(
          this.aws.limits,
          { family: 'iam', api: 'ListAccessKeys', region: this.config.awsRegion, accountId: account.id },
          () => iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker })),
        );
        for (const k of page.AccessKeyMetadata ?? []) {
          if (!k.AccessKeyId) continue;
          keys.push({
            accessKeyId: k.AccessKeyId,
            status: k.Status ?? 'unknown',
            ...(k.CreateDate ? { createdAt: k.CreateDate.toISOString() } : {}),
          });
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      return keys;
    } finally {
      iam.destroy();
    }
  }
}
