/**
 * Sharing a release image with customer accounts, from the image account:
 *  - `share`: the launch permission — for the account, or once for the organization / OU the fleet file
 *    names in `defaults.imageSharing` — and, when the image's snapshots are encrypted with a
 *    customer-managed key, a KMS grant on that key for the account (found by its name before it is
 *    created). Both are looked up first, so a retry or another campaign adds nothing twice;
 *  - `checkKey`: from inside the account, that it can use the key (the verify step);
 *  - `checkLimits`: before a campaign shares anything, that its accounts fit in AWS's 1,000 account
 *    shares per image and region (organization / OU shares do not count).
 */
import { ErrorType } from '../../fleet/error-types';
import type { AssumableAccount, FleetAccount } from '../../fleet/fleet-schema';
import { accountImageRegions } from '../../fleet/image-release';
import type { AccountAwsDeps } from '../aws/account-region';
import { imageLaunchPermissions, imageSnapshotKeys, shareImage, type SharePrincipal } from '../aws/ec2-images';
import { FleetOpsError } from '../aws/errors';
import { checkImageKeyUsable, describeImageKey, ensureImageKeyGrant } from '../aws/kms-key-grants';
import { readReleaseImages } from './release-images';
import { fleetAccount, loadFleetForActivity, type FleetFileDeps } from '../fleet-file-access';

/** AWS's limit: account launch permissions per image and region (organizations and OUs not counted). */
export const MAX_ACCOUNT_SHARES_PER_IMAGE = 1000;

/** What the share step did (recorded in the workflow history as the activity's result; no secret in it). */
export type ImageShareResult = {
  alreadyShared: boolean;
  /** `account`, or the organization / OU ARN the image is shared with instead. */
  sharedWith: string;
  /** One per KMS key of the image's encrypted snapshots. */
  keyGrants?: Array<{ keyArn: string; grantId: string; created: boolean }>;
};

export type ShareTarget = { fleetFile: string; accountId: string; region: string; runId: string; imageId: string };

export class ImageSharing {
  /**
   * The KMS keys of each image's snapshots (an image's snapshots and their encryption never change), so
   * a fleet's thousands of share and verify steps ask the image account once per image and region.
   */
  private readonly keys = new Map<string, Promise<string[]>>();
  private static readonly KEYS_MAX = 512;

  constructor(private readonly deps: AccountAwsDeps & FleetFileDeps) {}

  private snapshotKeys(where: { account: AssumableAccount; region: string; runId: string }, imageId: string) {
    const k = `${where.account.id}/${where.region}/${imageId}`;
    let found = this.keys.get(k);
    if (!found) {
      found = imageSnapshotKeys(this.deps, { ...where, imageId });
      found.catch(() => this.keys.delete(k));
      this.keys.set(k, found);
      if (this.keys.size > ImageSharing.KEYS_MAX) this.keys.delete(this.keys.keys().next().value as string);
    }
    return found;
  }

  private imageAccountOf(account: FleetAccount): AssumableAccount {
    if (!account.imageAccount)
      throw new FleetOpsError(
        ErrorType.InvalidFleetFile,
        'the fleet file has no defaults.imageAccount to share images from',
      );
    return account.imageAccount;
  }

  /** Launch permission (account or organization / OU) and, for an encrypted image, the KMS grant for the account. */
  async share(t: ShareTarget): Promise<ImageShareResult> {
    const account = fleetAccount(this.deps, t.fleetFile, t.accountId);
    const where = { account: this.imageAccountOf(account), region: t.region, runId: t.runId };
    const principal: SharePrincipal = account.imageSharing ?? { kind: 'account', accountId: t.accountId };
    let shared: { alreadyShared: boolean };
    try {
      shared = await shareImage(this.deps, { ...where, imageId: t.imageId, principal });
    } catch (err) {
      if (err instanceof FleetOpsError && err.context.awsCode === 'ResourceLimitExceeded')
        throw new FleetOpsError(
          ErrorType.ImageShareLimitExceeded,
          `image ${t.imageId} in ${t.region} cannot be shared with account ${t.accountId}: it already has AWS's ` +
            `${MAX_ACCOUNT_SHARES_PER_IMAGE} account shares (${err.message}). Fix: set defaults.imageSharing ` +
            'to the organization or OU of the fleet (docs/ami-images.md)',
          err.context,
        );
      throw err;
    }
    const keyGrants: NonNullable<ImageShareResult['keyGrants']> = [];
    for (const keyId of await this.snapshotKeys(where, t.imageId)) {
      const key = await describeImageKey(this.deps, { ...where, keyArn: keyId });
      if (key.keyManager !== 'CUSTOMER')
        throw new FleetOpsError(
          ErrorType.ImageKeyNotUsable,
          `image ${t.imageId} in ${t.region} is encrypted with the AWS managed key ${key.arn}, which cannot be shared: ` +
            'rebuild the image with a customer managed key (docs/ami-images.md)',
          { accountId: t.accountId, region: t.region, api: 'kms:DescribeKey' },
        );
      const grant = await ensureImageKeyGrant(this.deps, { ...where, keyArn: key.arn, consumerAccountId: t.accountId });
      keyGrants.push({ keyArn: key.arn, ...grant });
    }
    return {
      alreadyShared: shared.alreadyShared,
      sharedWith: principal.kind === 'account' ? 'account' : principal.arn,
      ...(keyGrants.length > 0 ? { keyGrants } : {}),
    };
  }

  /** From inside the account: every KMS key of the image (read in the image account) is usable there. */
  async checkKey(t: ShareTarget & { account: AssumableAccount }): Promise<{ keys: number }> {
    const image = this.imageAccountOf(fleetAccount(this.deps, t.fleetFile, t.accountId));
    const imageWhere = { account: image, region: t.region, runId: t.runId };
    const keys = await this.snapshotKeys(imageWhere, t.imageId);
    for (const keyId of keys) {
      const { arn } = await describeImageKey(this.deps, { ...imageWhere, keyArn: keyId });
      await checkImageKeyUsable(this.deps, {
        account: t.account,
        region: t.region,
        runId: t.runId,
        keyArn: arn,
        imageId: t.imageId,
      });
    }
    return { keys: keys.length };
  }

  /**
   * Before anything is shared: per region of the release, the image's account shares now plus the
   * campaign's accounts not yet among them must stay within 1,000 — else ImageShareLimitExceeded naming
   * image, region, the counts, some of the accounts and the fix. Nothing to check when the fleet file
   * shares with an organization or OU.
   */
  async checkLimits(input: { fleetFile: string; accountIds: string[]; image: string; runId: string }): Promise<{
    regions: Array<{ region: string; imageId: string; shared: number; adding: number }>;
    sharedWith: string;
  }> {
    const fleet = loadFleetForActivity(this.deps, input.fleetFile);
    const accounts = input.accountIds.map((id) => fleet.byId.get(id)).filter((a): a is FleetAccount => !!a);
    const withGroups = accounts.filter((a) => accountImageRegions(a).length > 0);
    if (withGroups.length === 0) return { regions: [], sharedWith: 'account' };
    const sharing = withGroups[0].imageSharing;
    if (sharing) return { regions: [], sharedWith: sharing.arn };
    const regions = [...new Set(withGroups.flatMap((a) => accountImageRegions(a)))].sort();
    const resolved = readReleaseImages(input.fleetFile, this.deps.fleetDirs, input.image, regions);
    const where = { account: this.imageAccountOf(withGroups[0]), runId: input.runId };
    const out: Array<{ region: string; imageId: string; shared: number; adding: number }> = [];
    for (const { region, imageId } of resolved.images) {
      const permissions = await imageLaunchPermissions(this.deps, { ...where, region, imageId });
      const shared = new Set(permissions.map((p) => p.UserId).filter((u): u is string => !!u));
      const adding = withGroups
        .filter((a) => accountImageRegions(a).includes(region) && !shared.has(a.id))
        .map((a) => a.id);
      if (shared.size + adding.length > MAX_ACCOUNT_SHARES_PER_IMAGE)
        throw new FleetOpsError(
          ErrorType.ImageShareLimitExceeded,
          `image ${imageId} (release ${resolved.release}) in ${region} is shared with ${shared.size} accounts and this ` +
            `campaign would add ${adding.length} more (${adding.slice(0, 5).join(', ')}${adding.length > 5 ? ', …' : ''}): ` +
            `AWS allows ${MAX_ACCOUNT_SHARES_PER_IMAGE} account shares per image and region. Nothing was shared. ` +
            'Fix: set defaults.imageSharing to the organization or OU the accounts are in (one launch permission, ' +
            'not counted), or select fewer accounts (docs/ami-images.md)',
          { region },
        );
      out.push({ region, imageId, shared: shared.size, adding: adding.length });
    }
    return { regions: out, sharedWith: 'account' };
  }
}
