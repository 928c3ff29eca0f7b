/**
 * Release channels: what `latest` means when a campaign names it (`--version latest`). A channel is a
 * list of published releases in `releases.yaml`, the file beside the fleet file (so the workers read
 * it from the same fleet location, under the same guard); `fleetops release publish` appends to it.
 * The newest release of a channel is its highest version (semver precedence), not the last line
 * written: publishing an older version by mistake never moves a fleet backwards. Pure (zod only; workflow
 * code reads `LATEST` from here); the YAML text is read and written in `release-file.ts`.
 */
import { z } from 'zod';
import { SEMVER_PATTERN } from './fleet-schema';

/** The value that asks for a channel's newest release. */
export const LATEST = 'latest';
/** The release file's name, beside the fleet file. */
export const RELEASE_FILE_NAME = 'releases.yaml';

export const ChannelNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a channel name: lowercase letters, digits, - (e.g. pipeline)');

export const ReleaseSchema = z.strictObject({
  version: z.string().regex(SEMVER_PATTERN, 'expected semver like 1.4.2'),
  publishedAt: z.iso.datetime(),
  note: z.string().max(500).optional(),
});
export type Release = z.infer<typeof ReleaseSchema>;

/** `releases.yaml`: channel name → releases in the order they were published. */
export const ReleaseFileSchema = z.record(ChannelNameSchema, z.array(ReleaseSchema));
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

/** The channel's newest release (highest version), or undefined when nothing was published on it. */
export function newestRelease(file: ReleaseFile, channel: string): Release | undefined {
  return [...(file[channel] ?? [])].sort((a, b) => compareSemver(b.version, a.version))[0];
}

/** The file with `release` appended to `channel`; publishing a version already there is refused. */
export function withRelease(file: ReleaseFile, channel: string, release: Release): ReleaseFile {
  const existing = (file[channel] ?? []).find((r) => r.version === release.version);
  if (existing)
    throw new Error(`release ${release.version} is already published on channel ${channel} (${existing.publishedAt})`);
  return { ...file, [channel]: [...(file[channel] ?? []), release] };
}
