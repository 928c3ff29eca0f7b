/**
 * The AMI share ledger: every launch permission added or removed with ModifyImageAttribute through
 * the proxy, per (owner account, region, image, principal) — the principal an account id, or an
 * organization / OU ARN. It is what makes a shared image visible from the consumer (moto keeps each
 * account's EC2 apart; an organization or OU share reaches the accounts account-organizations.ts places
 * in it), and it is served at `GET /__fleetops/ec2/shares` so tests can see what was shared, when and how often.
 */
import type { AccountOrganizations } from './account-organizations';

/** AWS's limit: an image can be shared with at most this many accounts per region (organizations and OUs do not count). */
export const MAX_ACCOUNT_SHARES_PER_IMAGE = 1000;

export type SharePrincipalKind = 'account' | 'organization' | 'organizational-unit';

export interface ImageShare {
  /** The account that owns the image (the image account). */
  ownerAccount: string;
  region: string;
  imageId: string;
  kind: SharePrincipalKind;
  /** The account id, organization ARN or OU ARN the image is shared with. */
  principal: string;
  /** The account the image is shared with (account shares only). */
  userId?: string;
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
  /** principal/region → image id → owner: what DescribeImages in the consumer looks up. */
  private readonly byConsumer = new Map<string, Map<string, string>>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly organizations?: AccountOrganizations,
  ) {}

  added(ownerAccount: string, region: string, imageId: string, principal: string): void {
    const at = new Date(this.now()).toISOString();
    const k = key(ownerAccount, region, imageId, principal);
    const kind = principalKind(principal);
    const share = this.shares.get(k) ?? {
      ownerAccount,
      region,
      imageId,
      kind,
      principal,
      ...(kind === 'account' ? { userId: principal } : {}),
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
    const consumer = key(principal, region);
    const images = this.byConsumer.get(consumer) ?? new Map<string, string>();
    images.set(imageId, ownerAccount);
    this.byConsumer.set(consumer, images);
  }

  removed(ownerAccount: string, region: string, imageId: string, principal: string): void {
    const share = this.shares.get(key(ownerAccount, region, imageId, principal));
    if (!share) return;
    share.active = false;
    share.removes++;
    share.lastChangedAt = new Date(this.now()).toISOString();
    const images = this.byConsumer.get(key(principal, region));
    if (images?.get(imageId) === ownerAccount) images.delete(imageId);
  }

  /** Whether `principal` holds an active launch permission on the image. */
  isActive(ownerAccount: string, region: string, imageId: string, principal: string): boolean {
    return this.shares.get(key(ownerAccount, region, imageId, principal))?.active === true;
  }

  /** How many accounts (not organizations or OUs) the image is shared with now. */
  activeAccountShares(ownerAccount: string, region: string, imageId: string): number {
    let n = 0;
    for (const s of this.shares.values())
      if (
        s.active &&
        s.kind === 'account' &&
        s.ownerAccount === ownerAccount &&
        s.region === region &&
        s.imageId === imageId
      )
        n++;
    return n;
  }

  /** Images shared with `consumer` in `region` (not its own): directly, or with its organization or an OU it is in. */
  sharedWith(consumer: string, region: string): SharedImageRef[] {
    const found = new Map<string, SharedImageRef>();
    for (const principal of [consumer, ...(this.organizations?.principalsOf(consumer) ?? [])]) {
      const images = this.byConsumer.get(key(principal, region));
      for (const [imageId, ownerAccount] of images ?? []) found.set(imageId, { ownerAccount, imageId });
    }
    return [...found.values()];
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
          a.principal.localeCompare(b.principal),
      );
  }

  reset(): void {
    this.shares.clear();
    this.byConsumer.clear();
  }
}

function principalKind(principal: string): SharePrincipalKind {
  if (principal.includes(':organization/')) return 'organization';
  if (principal.includes(':ou/')) return 'organizational-unit';
  return 'account';
}
