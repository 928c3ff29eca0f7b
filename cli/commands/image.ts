/**
 * `fleetops image publish | list`: image releases on the `image` release channel (`releases.yaml`
 * beside the fleet file, the same file `release publish` writes; see fleet/release-channel.ts).
 *
 * `publish` reads Packer's manifest, checks — before it changes anything — that the manifest is usable,
 * that the release covers every region the fleet's Auto Scaling groups are in, and that each AMI exists
 * and is `available` in the image account (`defaults.imageAccount`, reached with AssumeRole + ExternalId
 * like any account); then tags each AMI `fleetops:release=<name>` and records the release. Publishing the
 * same name with the same AMIs again is a no-op (so a publish interrupted after tagging can be re-run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CreateTagsCommand, DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { AccountCredentials } from '../../activities/aws/account-credentials';
import { callAws } from '../../activities/aws/aws-call';
import { AwsClients } from '../../activities/aws/aws-clients';
import { FleetOpsError } from '../../activities/aws/errors';
import { RateLimits } from '../../activities/aws/rate-limiter';
import { ExternalIdCache } from '../../activities/vault/external-id-cache';
import { VaultKv } from '../../activities/vault/vault-kv';
import { VaultSession } from '../../activities/vault/vault-session';
import { imageRegionsNeeded, resolveAutoScalingGroups } from '../../fleet/fleet-images';
import type { FleetAccount, ImageAccount } from '../../fleet/fleet-schema';
import {
  IMAGE_RELEASE_CHANNEL,
  IMAGE_RELEASE_NAME_PATTERN,
  IMAGE_RELEASE_TAG_KEY,
} from '../../fleet/image-release-schema';
import { loadFleetFile } from '../../fleet/load-fleet';
import { imagesFromManifest, parsePackerManifest, type ManifestImages } from '../../fleet/packer-manifest';
import {
  isImageRelease,
  newestRelease,
  releaseFileOf,
  withRelease,
  type ImageRelease,
  type ReleaseFile,
} from '../../fleet/release-channel';
import { formatReleaseFile, parseReleaseFile } from '../../fleet/release-file';
import { loadStackConfig } from '../../stack/stack-config';
import { loadWorkerConfig } from '../../worker/worker-config';
import { useLocalStackEnv } from '../local-env';

export type ImagePublishOptions = {
  manifest: string;
  name: string;
  fleet?: string;
  /** Only the manifest's last-run builds of this name. */
  build?: string;
  note?: string;
  json?: boolean;
  local?: boolean;
  /** Print nothing (callers that build and publish as one step of their own). */
  quiet?: boolean;
};

/** A publish refused before anything was tagged or recorded; the message lists every problem. */
export class ImagePublishRefused extends Error {
  override readonly name = 'ImagePublishRefused';
  constructor(
    readonly release: string,
    readonly problems: readonly string[],
  ) {
    super(`image release ${release} refused, nothing tagged or recorded:\n  ${problems.join('\n  ')}`);
  }
}

function defaultFleetFile(local?: boolean): string {
  return (
    process.env.FLEETOPS_FLEET_FILE ??
    (local ? path.join(loadStackConfig().stateDir, 'fleet.yaml') : '.fleetops/fleet.yaml')
  );
}

function readReleaseFile(file: string): ReleaseFile {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return parseReleaseFile(text, file);
}

/** The fleet's image account (`defaults.imageAccount`), or a problem naming the fix. */
function fleetImageAccount(accounts: readonly FleetAccount[], fleetFile: string): ImageAccount {
  const image = accounts.find((a) => a.imageAccount)?.imageAccount;
  if (!image)
    throw new ImagePublishRefused('(any)', [
      `${fleetFile} has no defaults.imageAccount: set { id, roleName, externalIdRef } of the account images are built in`,
    ]);
  return image;
}

/** Regions the fleet needs that the release lacks, each naming how many accounts need it and one of them. */
function missingRegionProblems(accounts: readonly FleetAccount[], images: ManifestImages): string[] {
  const problems: string[] = [];
  for (const region of imageRegionsNeeded(accounts)) {
    if (images.images[region]) continue;
    const needing = accounts.filter((a) => resolveAutoScalingGroups(a).some((t) => t.region === region));
    problems.push(
      `region ${region}: the fleet's Auto Scaling groups are there (${needing.length} account${needing.length === 1 ? '' : 's'}, e.g. ${needing[0].id}) but the release has no AMI there (builds ${images.builds.join(', ')})`,
    );
  }
  return problems;
}

/** Publishes the release; prints what it did and returns the recorded release. Throws ImagePublishRefused. */
export async function runImagePublish(o: ImagePublishOptions, now = new Date()): Promise<ImageRelease> {
  if (o.local) useLocalStackEnv(loadStackConfig());
  if (!IMAGE_RELEASE_NAME_PATTERN.test(o.name))
    throw new ImagePublishRefused(o.name, [
      `--name "${o.name}": expected an image release name like pipeline-2026.11.1 (1-128 of letters, digits, ._+-; not "latest")`,
    ]);
  const fleetFile = path.resolve(o.fleet ?? defaultFleetFile(o.local));
  const manifestFile = path.resolve(o.manifest);

  // 1. The manifest, the fleet's regions and the release file: no AWS call yet.
  let images: ManifestImages;
  try {
    images = imagesFromManifest(
      parsePackerManifest(fs.readFileSync(manifestFile, 'utf8'), manifestFile),
      manifestFile,
      { build: o.build },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ImagePublishRefused(o.name, [`manifest not found: ${manifestFile}`]);
    if (err instanceof Error && err.name === 'InvalidPackerManifest')
      throw new ImagePublishRefused(o.name, [`malformed manifest ${err.message}`]);
    throw err;
  }
  const accounts = loadFleetFile(fleetFile);
  const imageAccount = fleetImageAccount(accounts, fleetFile);
  const problems = missingRegionProblems(accounts, images);
  const releaseFile = releaseFileOf(fleetFile);
  const releases = readReleaseFile(releaseFile);
  const amis = Object.fromEntries(Object.values(images.images).map((i) => [i.region, i.imageId]));
  const existing = (releases[IMAGE_RELEASE_CHANNEL] ?? []).find((r) => r.version === o.name);
  if (existing && !(isImageRelease(existing) && sameAmis(existing.image.amis, amis)))
    problems.push(
      `release ${o.name} is already published on channel ${IMAGE_RELEASE_CHANNEL} (${existing.publishedAt}) with other AMIs; choose another name`,
    );
  const sameAmiOther = (releases[IMAGE_RELEASE_CHANNEL] ?? []).filter(
    (r) => r.version !== o.name && isImageRelease(r) && sameAmis(r.image.amis, amis),
  );
  if (sameAmiOther.length > 0) problems.push(`these AMIs are already published as release ${sameAmiOther[0].version}`);
  if (problems.length > 0) throw new ImagePublishRefused(o.name, problems);

  // 2. Each AMI, as the image account sees it.
  const access = imageAccountAccess(fleetFile);
  try {
    const found = await Promise.all(
      Object.values(images.images).map(async (img) => ({
        img,
        image: await access.describe(imageAccount, img.region, img.imageId),
      })),
    );
    for (const { img, image } of found) {
      const where = `build "${img.build}" (builds[${img.buildIndex}]) region ${img.region}: AMI ${img.imageId}`;
      if (!image) {
        problems.push(`${where} does not exist in the image account ${imageAccount.id}`);
        continue;
      }
      if (image.State !== 'available')
        problems.push(`${where} is ${image.State ?? 'in an unknown state'}, not available`);
      const tagged = image.Tags?.find((t) => t.Key === IMAGE_RELEASE_TAG_KEY)?.Value;
      if (tagged !== undefined && tagged !== o.name)
        problems.push(`${where} is already tagged ${IMAGE_RELEASE_TAG_KEY}=${tagged} (another release)`);
    }
    if (problems.length > 0) throw new ImagePublishRefused(o.name, problems);

    // 3. Tag, then record (a re-run after a crash between the two finds the tags and records).
    for (const { img } of found) await access.tag(imageAccount, img.region, img.imageId, o.name);
  } finally {
    access.close();
  }
  const release: ImageRelease =
    existing && isImageRelease(existing)
      ? existing
      : {
          version: o.name,
          publishedAt: now.toISOString(),
          ...(o.note ? { note: o.note } : {}),
          image: {
            account: imageAccount.id,
            builtAt: new Date(images.buildTime !== undefined ? images.buildTime * 1000 : now.getTime()).toISOString(),
            packerRunUuid: images.packerRunUuid,
            builds: images.builds,
            amis,
          },
        };
  if (!existing) {
    const next = withRelease(releases, IMAGE_RELEASE_CHANNEL, release);
    const tmp = `${releaseFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, formatReleaseFile(next));
    fs.renameSync(tmp, releaseFile);
  }
  const latest = newestRelease(readReleaseFile(releaseFile), IMAGE_RELEASE_CHANNEL);
  if (o.quiet) return release;
  if (o.json)
    process.stdout.write(
      `${JSON.stringify({ channel: IMAGE_RELEASE_CHANNEL, file: releaseFile, release, alreadyPublished: Boolean(existing), latest: latest?.version })}\n`,
    );
  else
    process.stdout.write(
      `${existing ? 'already published' : 'published'} image release ${o.name} (${Object.entries(amis)
        .map(([r, id]) => `${r} ${id}`)
        .join(', ')}) on channel ${IMAGE_RELEASE_CHANNEL} (${releaseFile}); latest is ${latest?.version}\n`,
    );
  return release;
}

function sameAmis(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** EC2 in the image account through the worker's own paths (Vault login, AssumeRole with ExternalId, rate budgets). */
function imageAccountAccess(fleetFile: string) {
  const config = loadWorkerConfig({
    ...process.env,
    FLEETOPS_FLEET_DIRS: process.env.FLEETOPS_FLEET_DIRS || path.dirname(fleetFile),
  });
  const session = new VaultSession(config.vault);
  const clients = new AwsClients({ endpoint: config.awsEndpoint, homeRegion: config.awsRegion });
  const limits = new RateLimits(config.rateBudgets);
  const credentials = new AccountCredentials({
    sts: clients.sts(),
    stsRegion: config.awsRegion,
    externalIds: new ExternalIdCache(new VaultKv(session)),
    limits,
  });
  const runId = 'image-publish';
  const ec2 = (account: ImageAccount, region: string): EC2Client =>
    clients.ec2(region, credentials.provider(account, runId), `${account.id}/${runId}`);
  const call = <T>(account: ImageAccount, region: string, api: string, fn: () => Promise<T>) =>
    callAws(limits, { family: 'ec2', api, region, accountId: account.id }, fn);
  return {
    /** The image as the image account sees it, or undefined when it does not exist there. */
    async describe(account: ImageAccount, region: string, imageId: string): Promise<Image | undefined> {
      try {
        const out = await call(account, region, 'DescribeImages', () =>
          ec2(account, region).send(new DescribeImagesCommand({ ImageIds: [imageId] })),
        );
        return out.Images?.find((i) => i.ImageId === imageId);
      } catch (err) {
        if (err instanceof FleetOpsError && /InvalidAMIID/.test(err.message)) return undefined;
        throw err;
      }
    },
    async tag(account: ImageAccount, region: string, imageId: string, release: string): Promise<void> {
      await call(account, region, 'CreateTags', () =>
        ec2(account, region).send(
          new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: IMAGE_RELEASE_TAG_KEY, Value: release }] }),
        ),
      );
    },
    close(): void {
      session.stop();
      clients.destroy();
    },
  };
}

export type ImageListOptions = { fleet?: string; json?: boolean; local?: boolean };

/** The image releases, newest build first, each with its AMI per region; `--json` adds a per-region view. */
export function runImageList(o: ImageListOptions): void {
  if (o.local) useLocalStackEnv(loadStackConfig());
  const file = releaseFileOf(path.resolve(o.fleet ?? defaultFleetFile(o.local)));
  const releases = (readReleaseFile(file)[IMAGE_RELEASE_CHANNEL] ?? []).filter(isImageRelease);
  const ordered = [...releases].sort(
    (a, b) =>
      Date.parse(b.image.builtAt) - Date.parse(a.image.builtAt) ||
      Date.parse(b.publishedAt) - Date.parse(a.publishedAt),
  );
  const latest = ordered[0];
  const regions: Record<string, Array<{ release: string; imageId: string }>> = {};
  for (const r of ordered)
    for (const [region, imageId] of Object.entries(r.image.amis).sort())
      (regions[region] ??= []).push({ release: r.version, imageId });
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ channel: IMAGE_RELEASE_CHANNEL, file, latest: latest?.version ?? null, releases: ordered, regions }, null, 2)}\n`,
    );
    return;
  }
  if (!ordered.length) {
    process.stdout.write(`no image release on channel ${IMAGE_RELEASE_CHANNEL} (${file})\n`);
    return;
  }
  for (const r of ordered) {
    process.stdout.write(
      `${r === latest ? '*' : ' '} ${r.version}  built ${r.image.builtAt}  published ${r.publishedAt}  image account ${r.image.account}${r.note ? `  ${r.note}` : ''}\n`,
    );
    for (const [region, imageId] of Object.entries(r.image.amis).sort())
      process.stdout.write(`    ${region.padEnd(16)} ${imageId}\n`);
  }
  process.stdout.write(`latest (*) = the newest build: ${latest.version}\n`);
}
