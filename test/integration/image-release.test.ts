/**
 * Image releases on the real local stack: `sim seed` (image account, base images, a launch template and
 * an Auto Scaling group per account and region) → `sim image build` (AMIs + a Packer manifest) →
 * `image publish` (checked in the image account, tagged, recorded on the image channel) → `image list`;
 * and every refusal, with nothing tagged or recorded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DescribeAutoScalingGroupsCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DisableImageCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImagePublishRefused, runImageList, runImagePublish } from '../../cli/commands/image';
import { runSimSeed } from '../../cli/commands/sim-seed';
import { runSimImageBuild } from '../../cli/sim/sim-image-build';
import { SIM_BASE_IMAGE_NAME, SIM_GROUP_NAME, SIM_IMAGE_ACCOUNT_ID } from '../../cli/sim/simulated-fleet';
import { imageRegionsNeeded, resolveAutoScalingGroups } from '../../fleet/fleet-images';
import type { FleetAccount, ImageAccount } from '../../fleet/fleet-schema';
import { IMAGE_RELEASE_TAG_KEY } from '../../fleet/image-release-schema';
import { loadFleetFile } from '../../fleet/load-fleet';
import { parsePackerManifest } from '../../fleet/packer-manifest';
import { accountCredentials, type AccountCredentialsValue } from '../support/account-access';
import { testStack } from '../support/test-stack';

const cfg = testStack();
const ID_BASE = 972_000_000_000;
const dir = path.join(cfg.stateDir, 'image-release');
const fleetFile = path.join(dir, 'fleet.yaml');
const releaseFile = path.join(dir, 'releases.yaml');
let accounts: FleetAccount[];
let image: ImageAccount;
let imageCreds: AccountCredentialsValue;

const ec2As = (creds: AccountCredentialsValue, region: string) =>
  new EC2Client({ endpoint: cfg.awsEndpoint, region, credentials: creds });

/** Captures what a command prints on stdout. */
async function stdoutOf(fn: () => unknown): Promise<string> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: unknown) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

async function refused(fn: () => Promise<unknown>): Promise<string> {
  try {
    await stdoutOf(fn);
  } catch (err) {
    expect(err).toBeInstanceOf(ImagePublishRefused);
    return (err as Error).message;
  }
  throw new Error('expected the publish to be refused');
}

/** The fleetops:release tag of an AMI in the image account (undefined: not tagged). */
async function releaseTag(region: string, imageId: string): Promise<string | undefined> {
  const out = await ec2As(imageCreds, region).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  return out.Images?.[0]?.Tags?.find((t) => t.Key === IMAGE_RELEASE_TAG_KEY)?.Value;
}

const build = (name: string, regions?: string[]) =>
  runSimImageBuild({ name, regions, fleet: fleetFile, manifest: path.join(dir, `${name}.json`), quiet: true });

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await runSimSeed({ accounts: 5, idBase: ID_BASE, out: fleetFile, quiet: true });
  accounts = loadFleetFile(fleetFile);
  image = accounts[0].imageAccount!;
  imageCreds = await accountCredentials(cfg, image);
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sim seed: the image account, launch templates and groups', () => {
  it('writes the image account and the groups into the fleet file', () => {
    expect(image).toEqual({
      id: SIM_IMAGE_ACCOUNT_ID,
      roleArn: `arn:aws:iam::${SIM_IMAGE_ACCOUNT_ID}:role/FleetOpsExecutionRole`,
      externalIdRef: `secret/data/fleetops/external-ids/${SIM_IMAGE_ACCOUNT_ID}`,
    });
    expect(imageRegionsNeeded(accounts)).toEqual(['eu-west-1', 'us-east-1']);
  });

  async function seededState() {
    const base: Record<string, string[]> = {};
    for (const region of ['eu-west-1', 'us-east-1']) {
      const out = await ec2As(imageCreds, region).send(
        new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [SIM_BASE_IMAGE_NAME] }] }),
      );
      // Test files seed in parallel: a racing seeder's extra base image is deregistered, the lowest id kept.
      const ids = out.Images!.map((i) => i.ImageId!).sort();
      expect(
        out.Images!.every((i) => i.State === 'available'),
        region,
      ).toBe(true);
      base[region] = ids;
    }
    const groups: unknown[] = [];
    for (const account of accounts) {
      const creds = await accountCredentials(cfg, account);
      for (const target of resolveAutoScalingGroups(account)) {
        if (target.by !== 'name') continue;
        const asg = new AutoScalingClient({ endpoint: cfg.awsEndpoint, region: target.region, credentials: creds });
        const [group] = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [target.name] })))
          .AutoScalingGroups!;
        expect(group.LaunchTemplate).toMatchObject({ LaunchTemplateName: SIM_GROUP_NAME, Version: '1' });
        expect([group.MinSize, group.MaxSize, group.DesiredCapacity]).toEqual([0, 1, 0]);
        expect(group.Tags).toEqual(
          expect.arrayContaining([expect.objectContaining({ Key: 'fleetops:pipeline', Value: 'workers' })]),
        );
        const versions = await ec2As(creds, target.region).send(
          new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: SIM_GROUP_NAME }),
        );
        expect(versions.LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([1]);
        expect(base[target.region]).toContain(versions.LaunchTemplateVersions![0].LaunchTemplateData?.ImageId);
        groups.push({ account: account.id, region: target.region, group, template: versions.LaunchTemplateVersions });
      }
    }
    return { base, groups };
  }

  it('a base image per region; per account and region a launch template at version 1 on it and a group on version 1; re-seeding keeps them', async () => {
    const first = await seededState();
    expect(first.groups).toHaveLength(6); // 5 accounts in eu-west-1, one also in us-east-1
    await runSimSeed({ accounts: 5, idBase: ID_BASE, out: fleetFile, quiet: true });
    const second = await seededState();
    expect(second.base).toEqual(first.base);
    expect(JSON.stringify(second.groups)).toBe(JSON.stringify(first.groups));
  }, 120_000);
});

describe('image publish', () => {
  it('sim image build → manifest → image publish → image list', async () => {
    const built = await build('pipeline-2026.11.1');
    const manifest = parsePackerManifest(fs.readFileSync(built.manifest, 'utf8'), built.manifest);
    expect(manifest.last_run_uuid).toBe(built.packerRunUuid);
    expect(manifest.builds[0]).toMatchObject({ name: 'pipeline', builder_type: 'amazon-ebs', files: null });
    expect(manifest.builds[0].artifact_id).toMatch(/^eu-west-1:ami-[0-9a-f]{17},us-east-1:ami-[0-9a-f]{17}$/);

    const release = await stdoutOf(() =>
      runImagePublish({ manifest: built.manifest, name: 'pipeline-2026.11.1', fleet: fleetFile, note: 'first' }),
    );
    expect(release).toMatch(/^published image release pipeline-2026\.11\.1 \(eu-west-1 ami-/);
    for (const { region, imageId } of built.images)
      expect(await releaseTag(region, imageId)).toBe('pipeline-2026.11.1');

    // Again: a no-op (an interrupted publish can be re-run).
    const again = await stdoutOf(() =>
      runImagePublish({ manifest: built.manifest, name: 'pipeline-2026.11.1', fleet: fleetFile, json: true }),
    );
    expect(JSON.parse(again)).toMatchObject({ alreadyPublished: true, latest: 'pipeline-2026.11.1' });

    const second = await build('pipeline-2026.11.2');
    await stdoutOf(() => runImagePublish({ manifest: second.manifest, name: 'pipeline-2026.11.2', fleet: fleetFile }));
    const listed = JSON.parse(await stdoutOf(() => runImageList({ fleet: fleetFile, json: true })));
    expect(listed.latest).toBe('pipeline-2026.11.2');
    expect(listed.releases.map((r: { version: string }) => r.version)).toEqual([
      'pipeline-2026.11.2',
      'pipeline-2026.11.1',
    ]);
    expect(listed.releases[1]).toMatchObject({
      version: 'pipeline-2026.11.1',
      note: 'first',
      image: {
        account: SIM_IMAGE_ACCOUNT_ID,
        packerRunUuid: built.packerRunUuid,
        builds: ['pipeline'],
        amis: Object.fromEntries(built.images.map((i) => [i.region, i.imageId])),
      },
    });
    expect(listed.regions['us-east-1']).toEqual([
      { release: 'pipeline-2026.11.2', imageId: second.images[1].imageId },
      { release: 'pipeline-2026.11.1', imageId: built.images[1].imageId },
    ]);
    const text = await stdoutOf(() => runImageList({ fleet: fleetFile }));
    expect(text).toContain(`* pipeline-2026.11.2`);
    expect(text).toContain(`    us-east-1        ${second.images[1].imageId}`);
  }, 120_000);

  describe('refusals: nothing tagged, nothing recorded', () => {
    let before: string;
    beforeAll(() => {
      before = fs.existsSync(releaseFile) ? fs.readFileSync(releaseFile, 'utf8') : '';
    });
    const unchanged = () => expect(fs.existsSync(releaseFile) ? fs.readFileSync(releaseFile, 'utf8') : '').toBe(before);

    it('a malformed manifest, naming the build', async () => {
      const file = path.join(dir, 'malformed.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          builds: [
            {
              name: 'pipeline',
              builder_type: 'amazon-ebs',
              build_time: 1,
              artifact_id: 'eu-west-1:ami-nothex,us-east-1',
              packer_run_uuid: 'u',
            },
          ],
          last_run_uuid: 'u',
        }),
      );
      const message = await refused(() =>
        runImagePublish({ manifest: file, name: 'pipeline-bad-1', fleet: fleetFile }),
      );
      expect(message).toContain(
        'builds[0] (build "pipeline"): artifact_id part "eu-west-1:ami-nothex": region eu-west-1: "ami-nothex" is not an AMI id',
      );
      expect(message).toContain('builds[0] (build "pipeline"): artifact_id part "us-east-1" is not region:ami-…');
      fs.writeFileSync(file, '{"builds": [');
      expect(
        await refused(() => runImagePublish({ manifest: file, name: 'pipeline-bad-1', fleet: fleetFile })),
      ).toMatch(/malformed manifest .*not JSON/);
      expect(await refused(() => runImagePublish({ manifest: file, name: 'latest', fleet: fleetFile }))).toMatch(
        /--name "latest"/,
      );
      unchanged();
    });

    it('an AMI that does not exist in the image account, naming build, region and AMI', async () => {
      const real = await build('pipeline-bad-2');
      const file = path.join(dir, 'pipeline-bad-2.json');
      const fake = 'ami-0000000000000dead';
      const m = JSON.parse(fs.readFileSync(file, 'utf8'));
      m.builds[m.builds.length - 1].artifact_id = `eu-west-1:${real.images[0].imageId},us-east-1:${fake}`;
      fs.writeFileSync(file, JSON.stringify(m));
      const message = await refused(() =>
        runImagePublish({ manifest: file, name: 'pipeline-bad-2', fleet: fleetFile }),
      );
      expect(message).toContain(
        `build "pipeline" (builds[0]) region us-east-1: AMI ${fake} does not exist in the image account ${SIM_IMAGE_ACCOUNT_ID}`,
      );
      expect(await releaseTag('eu-west-1', real.images[0].imageId)).toBeUndefined();
      unchanged();
    });

    it('an AMI that is not available', async () => {
      const real = await build('pipeline-bad-3');
      await ec2As(imageCreds, 'us-east-1').send(new DisableImageCommand({ ImageId: real.images[1].imageId }));
      const message = await refused(() =>
        runImagePublish({ manifest: real.manifest, name: 'pipeline-bad-3', fleet: fleetFile }),
      );
      expect(message).toContain(`region us-east-1: AMI ${real.images[1].imageId} is disabled, not available`);
      expect(message).not.toContain('eu-west-1: AMI');
      expect(await releaseTag('eu-west-1', real.images[0].imageId)).toBeUndefined();
      unchanged();
    });

    it('a region the fleet needs that the release lacks', async () => {
      const real = await build('pipeline-bad-4', ['eu-west-1']);
      const message = await refused(() =>
        runImagePublish({ manifest: real.manifest, name: 'pipeline-bad-4', fleet: fleetFile }),
      );
      expect(message).toContain(
        `region us-east-1: the fleet's Auto Scaling groups are there (1 account, e.g. ${ID_BASE + 4}) but the release has no AMI there (builds pipeline)`,
      );
      expect(await releaseTag('eu-west-1', real.images[0].imageId)).toBeUndefined();
      unchanged();
    });

    it('a name already published with other AMIs', async () => {
      const real = await build('pipeline-bad-5');
      const message = await refused(() =>
        runImagePublish({ manifest: real.manifest, name: 'pipeline-2026.11.1', fleet: fleetFile }),
      );
      expect(message).toContain('release pipeline-2026.11.1 is already published on channel image');
      unchanged();
    });
  });
});
