/**
 * Resolving an image release for one account: which AMI each of the account's regions gets. Pure
 * (zod-free, imported by workflow code); the release file is read by an activity through the fleet
 * locations guard and handed in.
 */
import { resolveAutoScalingGroups } from './fleet-images';
import type { FleetAccount } from './fleet-schema';
import { IMAGE_RELEASE_CHANNEL } from './image-release-schema';
import { isImageRelease, LATEST, newestRelease, type ReleaseFile } from './release-channel';

/** The AMI one region of an account moves to. */
export type RegionImage = { region: string; imageId: string };

export type ImageReleaseResolution =
  | {
      ok: true;
      /** The release name (`latest` resolved). */
      release: string;
      /** The image account the AMIs live in (and are shared from). */
      imageAccount: string;
      /** One per requested region, in the order requested. */
      images: RegionImage[];
    }
  | {
      ok: false;
      /**
       * `no-release`: nothing published on the channel (for `latest`); `unknown-release`: no release of
       * that name; `not-an-image-release`: the name is a pipeline version; `missing-regions`: the
       * release has no AMI for some requested regions (listed in `missingRegions`).
       */
      reason: 'no-release' | 'unknown-release' | 'not-an-image-release' | 'missing-regions';
      message: string;
      missingRegions?: string[];
    };

/** The regions an account's groups are in (the AMI rollout's regions for it), in the account's region order. */
export function accountImageRegions(account: Pick<FleetAccount, 'regions' | 'autoScalingGroups'>): string[] {
  const used = new Set(resolveAutoScalingGroups(account).map((t) => t.region));
  return [...account.regions.filter((r) => used.has(r)), ...[...used].filter((r) => !account.regions.includes(r))];
}

/**
 * The AMI per region for `release` (a release name, or `latest`: the channel's newest build) on
 * `channel` (default `image`), for `regions` (e.g. `accountImageRegions(account)`). Every requested
 * region must be in the release; otherwise nothing is resolved and the missing regions are named.
 */
export function resolveImageRelease(
  file: ReleaseFile,
  request: { release: string; regions: readonly string[]; channel?: string },
): ImageReleaseResolution {
  const channel = request.channel ?? IMAGE_RELEASE_CHANNEL;
  const found =
    request.release === LATEST
      ? newestRelease(file, channel)
      : (file[channel] ?? []).find((r) => r.version === request.release);
  if (!found) {
    const names = (file[channel] ?? []).map((r) => r.version);
    return request.release === LATEST
      ? { ok: false, reason: 'no-release', message: `no image release on channel ${channel}` }
      : {
          ok: false,
          reason: 'unknown-release',
          message: `no image release ${request.release} on channel ${channel} (published: ${names.join(', ') || 'none'})`,
        };
  }
  if (!isImageRelease(found))
    return {
      ok: false,
      reason: 'not-an-image-release',
      message: `${found.version} on channel ${channel} is a pipeline version, not an image release`,
    };
  const missing = request.regions.filter((region) => found.image.amis[region] === undefined);
  if (missing.length > 0)
    return {
      ok: false,
      reason: 'missing-regions',
      message: `image release ${found.version} has no AMI in ${missing.join(', ')} (it has ${Object.keys(found.image.amis).join(', ')})`,
      missingRegions: missing,
    };
  return {
    ok: true,
    release: found.version,
    imageAccount: found.image.account,
    images: request.regions.map((region) => ({ region, imageId: found.image.amis[region] })),
  };
}
