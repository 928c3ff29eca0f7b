/**
 * Release channels: what `latest` means when a campaign names it (`--version latest`, `--image latest`).
 * A channel is a list of published releases in `releases.yaml`, the file beside the fleet file (so the
 * workers read it from the same fleet location, under the same guard); `fleetops release publish` and
 * `fleetops image publish` append to it. Two kinds of channel, never mixed in one:
 *  - pipeline versions (`pipeline`): `version` is semver; the newest release is the highest version
 *    (semver precedence), not the last line written;
 *  - image releases (`image`, see image-release.ts): `version` is the release name and `image` holds the
 *    AMI per region; the newest release is the newest *build* (`image.builtAt`, Packer's build time).
 * Either way publishing an older release by mistake never moves a fleet backwards. Pure (zod only;
 * workflow code reads `LATEST` from here); the YAML text is read and written in `release-file.ts`.
 */
import { z } from 'zod';
import { SEMVER_PATTERN } from './fleet-fields';
import { IMAGE_RELEASE_NAME_PATTERN, ImageReleaseDetailsSchema } from './image-release-schema';

/** The value that asks for a channel's newest release. */
export const LATEST = 'latest';
/** The release file's name, beside the fleet file. */
export const RELEASE_FILE_NAME = 'releases.yaml';

export const ChannelNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a channel name: lowercase letters, digits, - (e.g. pipeline)');

/**
 * One published release. `version` is what a campaign parameter resolves to: a semver pipeline version,
 * or (with `image`) an image release name.
 */
export const ReleaseSchema = z
  .strictObject({
    version: z.string(),
    publishedAt: z.iso.datetime(),
    note: z.string().max(500).optional(),
    /** Image releases only: the AMIs (see image-release-schema.ts). */
    image: ImageReleaseDetailsSchema.optional(),
  })
  .superRefine((release, ctx) => {
    if (release.image === undefined && !SEMVER_PATTERN.test(release.version))
      ctx.addIssue({ code: 'custom', path: ['version'], message: 'expected semver like 1.4.2' });
    if (release.image !== undefined && !IMAGE_RELEASE_NAME_PATTERN.test(release.version))
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message: 'expected an image release name like pipeline-2026.11.1 (letters, digits, ._+-, not "latest")',
      });
  });
export type Release = z.infer<typeof ReleaseSchema>;

/** An image release: a release with its `image` part. */
export type ImageRelease = Release & { image: NonNullable<Release['image']> };
export const isImageRelease = (release: Release): release is ImageRelease => release.image !== undefined;

/** `releases.yaml`: channel name → releases in the order they were published; a channel holds one kind. */
export const ReleaseFileSchema = z.record(ChannelNameSchema, z.array(ReleaseSchema)).superRefine((file, ctx) => {
  for (const [channel, releases] of Object.entries(file)) {
    const images = releases.filter(isImageRelease).length;
    if (images > 0 && images < releases.length)
      ctx.addIssue({
        code: 'custom',
        path: [channel],
        message: `channel ${channel} mixes image releases and pipeline versions; a channel holds one kind`,
      });
  }
});
export type ReleaseFile = z.infer<typeof ReleaseFileSchema>;

/** The release file of a fleet file: `releases.yaml` in the same directory (path arithmetic only). */
export function releaseFileOf(fleetFile: string): string {
  const cut = Math.max(fleetFile.lastIndexOf('/'), fleetFile.lastIndexOf('\\'));
  return `${cut >= 0 ? fleetFile.slice(0, cut + 1) : ''}${RELEASE_FILE_NAME}`;
}

/** Semver precedence (semver.org §11): numbers compared numerically; a pre-release sorts before its release. */
export function compareSemver(a: string, b: string): number {
  const ma = SEMVER_PATTERN.exec(a);
  const mb = SEMVER_PATTERN.exec(b);
  if (!ma || !mb) throw new Error(`not semver: ${!ma ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(ma[i]) - Number(mb[i]);
    if (d !== 0) return Math.sign(d);
  }
  const [pa, pb] = [ma[4], mb[4]];
  if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1;
  const xa = pa.split('.');
  const xb = pb.split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    if (xa[i] === undefined) return -1;
    if (xb[i] === undefined) return 1;
    const na = /^\d+$/.test(xa[i]);
    const nb = /^\d+$/.test(xb[i]);
    if (na && nb && Number(xa[i]) !== Number(xb[i])) return Math.sign(Number(xa[i]) - Number(xb[i]));
    if (na !== nb) return na ? -1 : 1;
    if (!na && xa[i] !== xb[i]) return xa[i] < xb[i] ? -1 : 1;
  }
  return 0;
}

/**
 * The channel's newest release, or undefined when nothing was published on it: the highest version on a
 * pipeline channel; on an image channel the newest build (`image.builtAt`; equal → the later published).
 */
export function newestRelease(file: ReleaseFile, channel: string): Release | undefined {
  return [...(file[channel] ?? [])].sort(compareNewestFirst)[0];
}

function compareNewestFirst(a: Release, b: Release): number {
  if (a.image && b.image) {
    const built = Date.parse(b.image.builtAt) - Date.parse(a.image.builtAt);
    return built !== 0 ? built : Date.parse(b.publishedAt) - Date.parse(a.publishedAt);
  }
  return compareSemver(b.version, a.version);
}

/**
 * The file with `release` appended to `channel`; publishing a version already there, or another kind of
 * release than the channel holds, is refused.
 */
export function withRelease(file: ReleaseFile, channel: string, release: Release): ReleaseFile {
  const releases = file[channel] ?? [];
  const existing = releases.find((r) => r.version === release.version);
  if (existing)
    throw new Error(`release ${release.version} is already published on channel ${channel} (${existing.publishedAt})`);
  if (releases.length > 0 && isImageRelease(releases[0]) !== isImageRelease(release))
    throw new Error(
      `channel ${channel} holds ${isImageRelease(releases[0]) ? 'image releases' : 'pipeline versions'}; ` +
        `publish ${isImageRelease(release) ? 'images' : 'versions'} on another channel`,
    );
  return { ...file, [channel]: [...releases, release] };
}
