/**
 * The manifest Packer's `manifest` post-processor writes (`packer-manifest.json`), read by
 * `fleetops image publish` and written by `fleetops sim image build`. Pure (zod only).
 *
 * ```json
 * { "builds": [ { "name": "pipeline", "builder_type": "amazon-ebs", "build_time": 1762160000,
 *                 "files": null, "artifact_id": "eu-west-1:ami-0a1b…,us-east-1:ami-0c2d…",
 *                 "packer_run_uuid": "6c1f…", "custom_data": { "release": "pipeline-2026.11.1" } } ],
 *   "last_run_uuid": "6c1f…" }
 * ```
 * Packer appends a run's builds to an existing manifest (unless run with `-force`), so the builds of
 * the last run are those whose `packer_run_uuid` is `last_run_uuid`; those are the ones published.
 * Packer owns the format: fields fleetops does not use are allowed.
 */
import { z } from 'zod';
import { isAwsRegion } from './aws-regions';
import { AMI_ID_PATTERN } from './image-release-schema';

/** Packer builders whose artifact is AMIs, `region:ami-…` comma-separated. */
export const AMI_BUILDER_TYPES = ['amazon-ebs', 'amazon-chroot', 'amazon-instance', 'amazon-ebssurrogate'] as const;

export const PackerBuildSchema = z.looseObject({
  name: z.string().min(1),
  builder_type: z.string().min(1),
  /** Unix seconds; absent when the post-processor has `strip_time`. */
  build_time: z.number().int().nonnegative().optional(),
  files: z
    .array(z.looseObject({ name: z.string() }))
    .nullable()
    .optional(),
  artifact_id: z.string(),
  packer_run_uuid: z.string().min(1),
  custom_data: z.record(z.string(), z.string()).nullable().optional(),
});
export type PackerBuild = z.infer<typeof PackerBuildSchema>;

export const PackerManifestSchema = z.looseObject({
  builds: z.array(PackerBuildSchema).min(1, 'the manifest has no builds'),
  last_run_uuid: z.string().min(1),
});
export type PackerManifest = z.infer<typeof PackerManifestSchema>;

/** A manifest that cannot be used; `problems` each name the build (index and name), region and AMI concerned. */
export class InvalidPackerManifest extends Error {
  override readonly name = 'InvalidPackerManifest';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
  }
}

/** Parses the manifest's JSON text; throws InvalidPackerManifest naming each bad field (`builds[1].artifact_id: …`). */
export function parsePackerManifest(text: string, fileName: string): PackerManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidPackerManifest(fileName, [`not JSON: ${(err as Error).message}`]);
  }
  const parsed = PackerManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidPackerManifest(
      fileName,
      parsed.error.issues.map((issue) => {
        const at = issue.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('');
        const build = buildLabel(raw, issue.path[1]);
        return `${at.replace(/^\./, '') || '(top level)'}${build}: ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

/** ` (build "name")` for a problem inside builds[i], when the build has a name. */
function buildLabel(raw: unknown, index: unknown): string {
  if (typeof index !== 'number' || typeof raw !== 'object' || raw === null) return '';
  const builds = (raw as { builds?: unknown }).builds;
  const build: unknown = Array.isArray(builds) ? builds[index] : undefined;
  const name = typeof build === 'object' && build !== null ? (build as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? ` (build "${name}")` : '';
}

/** One AMI of the release, and the build it comes from. */
export type ManifestImage = { region: string; imageId: string; build: string; buildIndex: number };

export type ManifestImages = {
  /** Region → the AMI built there. */
  images: Record<string, ManifestImage>;
  /** Names of the builds used (the last run's, or the one asked for). */
  builds: string[];
  packerRunUuid: string;
  /** The newest build_time of the builds used (Unix seconds), when the manifest has times. */
  buildTime?: number;
};

/**
 * The AMIs of the manifest's last run (`last_run_uuid`), or of its builds named `build` in that run.
 * Refused, naming each problem: no such builds, a builder that does not make AMIs, an `artifact_id`
 * that is not `region:ami-…[,region:ami-…]`, a bad region or AMI id, one region with two AMIs.
 */
export function imagesFromManifest(
  manifest: PackerManifest,
  fileName: string,
  opts: { build?: string } = {},
): ManifestImages {
  const problems: string[] = [];
  const lastRun = manifest.builds
    .map((build, index) => ({ build, index }))
    .filter(({ build }) => build.packer_run_uuid === manifest.last_run_uuid);
  const used = opts.build === undefined ? lastRun : lastRun.filter(({ build }) => build.name === opts.build);
  if (lastRun.length === 0)
    problems.push(`no build has packer_run_uuid = last_run_uuid (${manifest.last_run_uuid}): the last run is missing`);
  else if (used.length === 0)
    problems.push(
      `no build named "${opts.build}" in the last run (${manifest.last_run_uuid}); its builds: ${lastRun.map(({ build }) => build.name).join(', ')}`,
    );

  const images: Record<string, ManifestImage> = {};
  for (const { build, index } of used) {
    const label = `builds[${index}] (build "${build.name}")`;
    if (!(AMI_BUILDER_TYPES as readonly string[]).includes(build.builder_type)) {
      problems.push(
        `${label}: builder_type ${build.builder_type} does not make AMIs (expected ${AMI_BUILDER_TYPES.join(', ')})`,
      );
      continue;
    }
    const parts = build.artifact_id.split(',').map((p) => p.trim());
    if (build.artifact_id.trim() === '') {
      problems.push(`${label}: artifact_id is empty (expected region:ami-…[,region:ami-…])`);
      continue;
    }
    for (const part of parts) {
      const m = /^([^:]+):(.*)$/.exec(part);
      if (!m) {
        problems.push(`${label}: artifact_id part "${part}" is not region:ami-…`);
        continue;
      }
      const [, region, imageId] = m;
      if (!isAwsRegion(region)) {
        problems.push(`${label}: artifact_id part "${part}": ${region} is not an AWS region`);
        continue;
      }
      if (!AMI_ID_PATTERN.test(imageId)) {
        problems.push(`${label}: artifact_id part "${part}": region ${region}: "${imageId}" is not an AMI id`);
        continue;
      }
      const before = images[region];
      if (before && before.imageId !== imageId) {
        problems.push(
          `${label}: region ${region} has two AMIs: ${imageId} here and ${before.imageId} in builds[${before.buildIndex}] (build "${before.build}"); publish one build with --build`,
        );
        continue;
      }
      images[region] = { region, imageId, build: build.name, buildIndex: index };
    }
  }
  if (problems.length > 0) throw new InvalidPackerManifest(fileName, problems);
  const times = used.map(({ build }) => build.build_time).filter((t): t is number => t !== undefined);
  return {
    images,
    builds: [...new Set(used.map(({ build }) => build.name))],
    packerRunUuid: manifest.last_run_uuid,
    ...(times.length > 0 ? { buildTime: Math.max(...times) } : {}),
  };
}

/** A manifest with one more run of one build appended, as Packer writes it (without `-force`). */
export function withManifestBuild(manifest: PackerManifest | undefined, build: PackerBuild): PackerManifest {
  return { builds: [...(manifest?.builds ?? []), build], last_run_uuid: build.packer_run_uuid };
}

/** `eu-west-1:ami-…,us-east-1:ami-…`, as Packer's amazon builders write artifact_id. */
export function formatArtifactId(images: ReadonlyArray<{ region: string; imageId: string }>): string {
  return images.map((i) => `${i.region}:${i.imageId}`).join(',');
}
