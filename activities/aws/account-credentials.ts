import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { ErrorType } from '../../fleet/error-types';
import type { AssumableAccount } from '../../fleet/fleet-schema';
import { callAws } from './aws-call';
import { FleetOpsError } from './errors';
import type { RateLimits } from './rate-limiter';
import type { ExternalIdCache } from '../vault/external-id-cache';

type CachedCredentials = AwsCredentialIdentity & { expiration: Date };

/** STS role session names: 2–64 chars of [\w+=,.@-]. */
export function roleSessionName(runId: string, accountId: string): string {
  const clean = (s: string) => s.replace(/[^\w+=,.@-]/g, '-');
  const suffix = `-${clean(accountId)}`;
  const head = `fleetops-${clean(runId)}`.slice(0, 64 - suffix.length);
  return `${head}${suffix}`;
}

export type AccountCredentialsDeps = {
  sts: STSClient;
  /** Region of the STS endpoint (for the rate budget). */
  stsRegion: string;
  externalIds: ExternalIdCache;
  limits: RateLimits;
  /** Refresh this long before expiry. */
  refreshBeforeMs?: number;
  sessionDurationSeconds?: number;
  now?: () => number;
};

/**
 * Credentials for customer accounts: AssumeRole with the account's ExternalId, cached in memory and
 * refreshed before expiry; one AssumeRole at a time per account (concurrent callers share it).
 * The credentials never leave this object except as an SDK credential provider.
 */
export class AccountCredentials {
  private readonly cache = new Map<string, CachedCredentials>();
  private readonly pending = new Map<string, Promise<CachedCredentials>>();
  private readonly now: () => number;
  /** How many AssumeRole calls were made (for tests and metrics). */
  assumeRoleCalls = 0;

  constructor(private readonly deps: AccountCredentialsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** An SDK credential provider for the account: clients built with it always get fresh credentials. */
  provider(account: AssumableAccount, runId: string): () => Promise<AwsCredentialIdentity> {
    return async () => {
      const c = await this.get(account, runId);
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration,
      };
    };
  }

  /** Drops an account's cached credentials (e.g. after ExpiredToken). */
  invalidate(accountId: string): void {
    this.cache.delete(accountId);
  }

  async get(account: AssumableAccount, runId: string): Promise<CachedCredentials> {
    const hit = this.cache.get(account.id);
    const fresh = hit && hit.expiration.getTime() - (this.deps.refreshBeforeMs ?? 5 * 60_000) > this.now();
    this.deps.limits.metrics.credentialCache(fresh ? 'hit' : 'miss');
    if (hit && fresh) return hit;
    let p = this.pending.get(account.id);
    if (!p) {
      p = this.assume(account, runId).finally(() => this.pending.delete(account.id));
      this.pending.set(account.id, p);
    }
    return p;
  }

  /**
   * Whether AssumeRole into the account is accepted with this `externalId` (AccessDenied → false);
   * not cached, nothing kept. The ExternalId rotation's test step: the new id, and the old one still.
   */
  async accepts(account: AssumableAccount, runId: string, externalId: string): Promise<boolean> {
    try {
      await this.assumeRole(account, runId, externalId);
      return true;
    } catch (err) {
      if (err instanceof FleetOpsError && err.name === ErrorType.AccountAccessDenied) return false;
      throw err;
    }
  }

  /** Makes the next AssumeRole into the account read its ExternalId from Vault again. */
  forgetExternalId(account: AssumableAccount): void {
    this.deps.externalIds.invalidate(account.externalIdRef);
  }

  /**
   * AssumeRole with the ExternalId from the cache. Denied → the id is read from Vault again, and if it
   * changed (an ExternalId rotation went live or was rolled back since it was cached) tried once more.
   */
  private async assume(account: AssumableAccount, runId: string): Promise<CachedCredentials> {
    const externalId = await this.deps.externalIds.get(account.externalIdRef);
    let out: AssumeRoleCommandOutput;
    try {
      out = await this.assumeRole(account, runId, externalId);
    } catch (err) {
      if (!(err instanceof FleetOpsError && err.name === ErrorType.AccountAccessDenied)) throw err;
      this.forgetExternalId(account);
      const fresh = await this.deps.externalIds.get(account.externalIdRef);
      if (fresh === externalId) throw err;
      out = await this.assumeRole(account, runId, fresh);
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new FleetOpsError(
        'AwsUnavailable',
        `sts:AssumeRole in account ${account.id}: response had no credentials`,
        { accountId: account.id },
      );
    }
    const creds: CachedCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration ?? new Date(this.now() + 3600_000),
    };
    this.cache.set(account.id, creds);
    return creds;
  }

  private assumeRole(account: AssumableAccount, runId: string, externalId: string): Promise<AssumeRoleCommandOutput> {
    return callAws(
      this.deps.limits,
      { family: 'sts', api: 'AssumeRole', region: this.deps.stsRegion, accountId: account.id, assumingRole: true },
      () => {
        this.assumeRoleCalls++;
        return this.deps.sts.send(
          new AssumeRoleCommand({
            RoleArn: account.roleArn,
            RoleSessionName: roleSessionName(runId, account.id),
            ExternalId: externalId,
            DurationSeconds: this.deps.sessionDurationSeconds ?? 3600,
          }),
        );
      },
    );
  }
}
