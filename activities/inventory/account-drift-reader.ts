/**
 * Reads what an account runs, for a drift inventory: its pipeline stacks, the image each configured
 * Auto Scaling group's launch template version runs, and when each configured secret's current value
 * was made; then compares with the fleet file and the release file beside it (fleet/inventory-drift.ts).
 * Metadata only: no secret value, ExternalId or access key id leaves this class.
 */
import fs from 'node:fs';
import { resolveAutoScalingGroups } from '../../fleet/fleet-images';
import type { FleetAccount } from '../../fleet/fleet-schema';
import { resolveAccountSecrets, type ResolvedSecret } from '../../fleet/fleet-secrets';
import { IMAGE_RELEASE_CHANNEL } from '../../fleet/image-release-schema';
import {
  accountDrift,
  imageDrift,
  secretAgeDrift,
  versionDrift,
  type AccountDrift,
  type GroupImageReading,
  type ImageReleases,
  type SecretAgeReading,
} from '../../fleet/inventory-drift';
import { isImageRelease, newestRelease, releaseFileOf } from '../../fleet/release-channel';
import { parseReleaseFile } from '../../fleet/release-file';
import { secretLiveRecordPath, SecretLiveRecordSchema } from '../../fleet/secret-vault-layout';
import type { AccountAwsDeps } from '../aws/account-region';
import { describeTargetGroups } from '../aws/autoscaling';
import { readPipelineStack, type PipelineStackState } from '../aws/cloudformation';
import { readLaunchTemplateVersion } from '../aws/ec2-launch-templates';
import { FleetOpsError } from '../aws/errors';
import { listAccessKeys } from '../aws/iam-access-keys';
import { currentVersionCreatedAt } from '../aws/secretsmanager';
import { resolveAllowedFleetFile, type FleetFileDeps } from '../fleet-file-access';
import type { VaultKv } from '../vault/vault-kv';

export type DriftReaderDeps = AccountAwsDeps & FleetFileDeps & { vault: VaultKv };

/** What one account's drift read gives: its stacks (as a plain inventory) and its drift, if any. */
export type AccountDriftResult = { accountId: string; stacks: PipelineStackState[]; drift?: AccountDrift };

const isNotFound = (err: unknown) =>
  err instanceof FleetOpsError && /ResourceNotFound|NoSuchEntity/.test(err.context.awsCode ?? '');

export class AccountDriftReader {
  constructor(
    private readonly deps: DriftReaderDeps,
    private readonly heartbeat: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  async read(
    fleetFile: string,
    account: FleetAccount,
    runId: string,
    maxSecretAgeDays: number,
  ): Promise<AccountDriftResult> {
    const stacks = await this.stacks(account, runId);
    const releases = this.imageReleases(fleetFile);
    const groups = releases ? await this.groupImages(account, runId) : [];
    const secrets = await this.secretAges(account, runId);
    const nowMs = this.now();
    const drift = accountDrift(account.id, [
      ...versionDrift(account.pipeline.version, stacks),
      ...imageDrift(groups, releases, nowMs),
      ...secretAgeDrift(secrets, maxSecretAgeDays, nowMs),
    ]);
    return { accountId: account.id, stacks, ...(drift ? { drift } : {}) };
  }

  /** The pipeline stack in every region of the account. */
  async stacks(account: FleetAccount, runId: string): Promise<PipelineStackState[]> {
    const stacks: PipelineStackState[] = [];
    for (const region of account.regions) {
      this.heartbeat();
      stacks.push(await readPipelineStack(this.deps, { account, region, runId, hooks: { heartbeat: this.heartbeat } }));
    }
    return stacks;
  }

  /**
   * The image releases of `releases.yaml` beside the fleet file; undefined when there is no such file or
   * no image release on the `image` channel (then there is nothing to compare images with).
   */
  imageReleases(fleetFile: string): ImageReleases | undefined {
    const file = releaseFileOf(fleetFile);
    let text: string;
    try {
      text = fs.readFileSync(resolveAllowedFleetFile(file, this.deps.fleetDirs), 'utf8');
    } catch {
      return undefined;
    }
    const parsed = parseReleaseFile(text, file);
    const images = (parsed[IMAGE_RELEASE_CHANNEL] ?? []).filter(isImageRelease);
    const newest = newestRelease(parsed, IMAGE_RELEASE_CHANNEL);
    if (!newest || !isImageRelease(newest)) return undefined;
    const slim = (r: (typeof images)[number]) => ({ name: r.version, builtAt: r.image.builtAt, amis: r.image.amis });
    return { newest: slim(newest), all: images.map(slim) };
  }

  /** Each configured group's image: the image of the launch template version the group launches from. */
  async groupImages(account: FleetAccount, runId: string): Promise<GroupImageReading[]> {
    const out: GroupImageReading[] = [];
    for (const target of resolveAutoScalingGroups(account)) {
      this.heartbeat();
      const where = { account, region: target.region, runId };
      const groups = await describeTargetGroups(this.deps, { ...where, target });
      if (groups.length === 0 && target.by === 'name')
        out.push({ region: target.region, groupName: target.name, problem: 'no-such-group' });
      for (const g of groups) {
        if (!g.launchTemplate) {
          out.push({ region: target.region, groupName: g.groupName, problem: 'no-launch-template' });
          continue;
        }
        const version = await readLaunchTemplateVersion(this.deps, {
          ...where,
          launchTemplateId: g.launchTemplate.launchTemplateId,
          version: g.launchTemplate.version,
        });
        out.push({
          region: target.region,
          groupName: g.groupName,
          ...(version.imageId ? { imageId: version.imageId } : { problem: 'no-image' as const }),
        });
      }
    }
    return out;
  }

  /** When each configured secret's current value was made. */
  async secretAges(account: FleetAccount, runId: string): Promise<SecretAgeReading[]> {
    const out: SecretAgeReading[] = [];
    for (const secret of Object.values(resolveAccountSecrets(account))) {
      this.heartbeat();
      out.push(await this.secretAge(account, runId, secret));
    }
    return out;
  }

  private async secretAge(account: FleetAccount, runId: string, secret: ResolvedSecret): Promise<SecretAgeReading> {
    switch (secret.kind) {
      case 'secretsmanager': {
        const base = {
          name: secret.name,
          describe: `secretsmanager ${secret.secretId}`,
          region: secret.region,
          basis: 'AWSCURRENT created',
        };
        try {
          const madeAt = await currentVersionCreatedAt(this.deps, {
            account,
            region: secret.region,
            runId,
            secretId: secret.secretId,
          });
          return { ...base, ...(madeAt ? { madeAt } : {}) };
        } catch (err) {
          if (isNotFound(err)) return { ...base, problem: `secret ${secret.secretId} not found` };
          throw err;
        }
      }
      case 'iam-access-key': {
        const base = {
          name: secret.name,
          describe: `iam-access-key of user ${secret.userName}`,
          basis: 'active key created',
        };
        try {
          const active = (await listAccessKeys(this.deps, { account, runId, userName: secret.userName })).filter(
            (k) => k.status === 'Active' && k.createdAt > 0,
          );
          if (active.length === 0) return { ...base, problem: `user ${secret.userName} has no active access key` };
          // The newest active key is the one the loader should be using.
          const newest = Math.max(...active.map((k) => k.createdAt));
          return { ...base, madeAt: new Date(newest).toISOString() };
        } catch (err) {
          if (isNotFound(err)) return { ...base, problem: `user ${secret.userName} not found` };
          throw err;
        }
      }
      case 'external-id':
        return {
          name: secret.name,
          describe: 'external-id',
          basis: 'rotated',
          ...(await this.externalIdMadeAt(account, secret.name)),
        };
    }
  }

  /**
   * When the ExternalId was made: the live record's `rotatedAt` (written by each rotation and by the
   * simulator's seed), else the creation time of the current Vault version at `externalIdRef` (metadata
   * only; the id itself is never read here).
   */
  private async externalIdMadeAt(account: FleetAccount, name: string): Promise<{ madeAt?: string }> {
    const found = await this.deps.vault.readSecretVersion(secretLiveRecordPath(account.id, name));
    const live = SecretLiveRecordSchema.safeParse(found?.data);
    if (found && live.success) return { madeAt: live.data.rotatedAt };
    const metadata = await this.deps.vault.readMetadata(account.externalIdRef);
    const current = metadata?.versions.find((v) => v.version === metadata.currentVersion);
    return current?.createdTime ? { madeAt: current.createdTime } : {};
  }
}
