/**
 * The AMI share ledger: every launch permission added or removed for an account with
 * ModifyImageAttribute through the proxy, per (owner account, region, image, consumer account).
 * It is what makes a shared image visible from the consumer (moto keeps each account's EC2 apart),
 * and it is served at `GET /__fleetops/ec2/shares` so tests can see what was shared, when and how often.
 */

export interface ImageShare {
  /** The account that owns the image (the image account). */
  ownerAccount: string;
  region: string;
  imageId: string;
  /** The account the image is shared with. */
  userId: string;
  /** Whether the launch permission is in place now. */
  active: boolean;
  /** How many `Add`s for this account were made (a repeated add is idempotent in AWS, but counted here). */
  adds: number;
  removes: number;
  firstSharedAt: string;
  lastChangedAt: string;
}

export interface SharedImageRef {
  ownerAccount: string;
  imageId: string;
}

const key = (...parts: string[]): string => parts.join('\u0000');

export class ImageShares {
  private readonly shares = new Map<string, ImageShare>();
  /** consumer/region → image id → owner: what DescribeImages in the consumer looks up. */
  private readonly byConsumer = new Map<string, Map<string, string>>();

  constructor(private readonly now: () => number = Date.now) {}

  added(ownerAccount: string, region: string, imageId: string, userId: string): void {
    const at = new Date(this.now()).toISOString();
    const k = key(ownerAccount, region, imageId, userId);
    const share = this.shares.get(k) ?? {
      ownerAccount,
      region,
      imageId,
      userId,
      active: false,
      adds: 0,
      removes: 0,
      firstSharedAt: at,
      lastChangedAt: at,
    };
    share.active = true;
    share.adds++;
    share.lastChangedAt = at;
    this.shares.set(k, share);
    const consumer = key(userId, region);
    const images = this.byConsumer.get(consumer) ?? new Map<string, string>();
    images.set(imageId, ownerAccount);
    this.byConsumer.set(consumer, images);
  }

  removed(ownerAccount: string, region: string, imageId: string, userId: string): void {
    const share = this.shares.get(key(ownerAccount, region, imageId, userId));
    if (!share) return;
    share.active = false;
    share.removes++;
    share.lastChangedAt = new Date(this.now()).toISOString();
    const images = this.byConsumer.get(key(userId, region));
    if (images?.get(imageId) === ownerAccount) images.delete(imageId);
  }

  /** Images shared with `consumer` in `region` (not its own). */
  sharedWith(consumer: string, region: string): SharedImageRef[] {
    const images = this.byConsumer.get(key(consumer, region));
    return images ? [...images].map(([imageId, ownerAccount]) => ({ ownerAccount, imageId })) : [];
  }

  /** Sorted by owner, region, image, consumer. */
  list(): ImageShare[] {
    return [...this.shares.values()]
      .map((s) => ({ ...s }))
      .sort(
        (a, b) =>
          a.ownerAccount.localeCompare(b.ownerAccount) ||
          a.region.localeCompare(b.region) ||
          a.imageId.localeCompare(b.imageId) ||
          a.userId.localeCompare(b.userId),
      );
  }

  reset(): void {
    this.shares.clear();
    this.byConsumer.clear();
  }
}
