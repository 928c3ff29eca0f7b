/**
 * The image release contract (pure, zod only): what `fleetops image publish` records for a release on
 * the image channel of `releases.yaml` (see release-channel.ts), the release name rule and the tag the
 * release's AMIs carry in the image account.
 */
import { z } from 'zod';
import { ACCOUNT_ID_PATTERN, RegionSchema } from './fleet-fields';

/** The release channel image releases are published on (what `--image latest` reads). */
export const IMAGE_RELEASE_CHANNEL = 'image';

/** Tag key set on every AMI of a release in the image account; the value is the release name. */
export const IMAGE_RELEASE_TAG_KEY = 'fleetops:release';

/**
 * An image release name (`--name`): 1-128 of letters, digits and `._+-`, starting with a letter or
 * digit, and not `latest` (which asks for the newest release), e.g. `pipeline-2026.11.1`.
 */
export const IMAGE_RELEASE_NAME_PATTERN = /^(?!latest$)[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** An AMI id: `ami-` and 8 or 17 hex digits. */
export const AMI_ID_PATTERN = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export const ImageReleaseNameSchema = z
  .string()
  .regex(
    IMAGE_RELEASE_NAME_PATTERN,
    'expected an image release name like pipeline-2026.11.1 (1-128 of letters, digits, ._+-; not "latest")',
  );

export const AmiIdSchema = z.string().regex(AMI_ID_PATTERN, 'expected an AMI id like ami-0123456789abcdef0');

/**
 * The `image` part of a release in `releases.yaml`:
 * ```yaml
 * image:
 *   - version: pipeline-2026.11.1          # the release name
 *     publishedAt: '2026-11-03T10:00:00.000Z'
 *     image:
 *       account: '999999999999'             # the image account the AMIs live in (and are shared from)
 *       builtAt: '2026-11-03T09:12:00.000Z' # Packer's build_time (the publish time if the manifest has none)
 *       packerRunUuid: 2b0c…                # the manifest's packer_run_uuid of the builds used
 *       builds: [pipeline]                  # the manifest builds the AMIs come from
 *       amis: { eu-west-1: ami-…, us-east-1: ami-… }
 * ```
 */
export const ImageReleaseDetailsSchema = z.strictObject({
  account: z.string().regex(ACCOUNT_ID_PATTERN, 'expected a 12-digit account id'),
  builtAt: z.iso.datetime(),
  packerRunUuid: z.string().min(1).optional(),
  builds: z.array(z.string()).min(1),
  amis: z
    .record(RegionSchema, AmiIdSchema)
    .refine((amis) => Object.keys(amis).length > 0, 'an image release has at least one region'),
});
export type ImageReleaseDetails = z.infer<typeof ImageReleaseDetailsSchema>;
