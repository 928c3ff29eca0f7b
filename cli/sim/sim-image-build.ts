/**
 * `fleetops sim image build --name N [--regions …]`: what a Packer `amazon-ebs` build with `ami_regions`
 * and the `manifest` post-processor does, on the local stack — an AMI named N per region in the image
 * account (`defaults.imageAccount` of the fleet file; `sim seed` creates it), made through the AWS proxy
 * as that account (AssumeRole with its ExternalId), and one build appended to the manifest in Packer's
 * format (`last_run_uuid` set to the new run). So the local flow is the production flow:
 * `sim image build` → manifest → `image publish` → `image list`.
 *
 * `--encrypted`: like Packer's `encrypt_boot` with `kms_key_id`, the AMI's root snapshot is encrypted
 * with a customer managed KMS key made in the image account (one per region and build): an encrypted
 * volume, its snapshot, a copy of it encrypted with the key (moto's CreateSnapshot drops the volume's
 * KmsKeyId, CopySnapshot keeps it), registered as the root device (the proxy keeps RegisterImage's
 * BlockDeviceMappings, which moto ignores).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { imageRegionsNeeded } from '../../fleet/fleet-images';
import { RegionSchema } from '../../fleet/fleet-schema';
import { loadFleetFile } from '../../fleet/load-fleet';
import {
  formatArtifactId,
  parsePackerManifest,
  withManifestBuild,
  type PackerManifest,
} from '../../fleet/packer-manifest';
import { loadStackConfig } from '../../stack/stack-config';
import { kvRead } from './vault-kv';

/** The Packer build name `sim image build` writes (a template's `build { name = "pipeline" }`). */
export const SIM_PACKER_BUILD_NAME = 'pipeline';

export type SimImageBuildOptions = {
  name: string;
  /** Default: the regions the fleet's groups are in. */
  regions?: string[];
  fleet?: string;
  /** Default: `<state dir>/packer-manifest.json`. */
  manifest?: string;
  quiet?: boolean;
  /** Root snapshot encrypted with a customer managed key made in the image account. */
  encrypted?: boolean;
};

export type SimImageBuild = {
  manifest: string;
  packerRunUuid: string;
  images: Array<{ region: string; imageId: string }>;
  /** `--encrypted`: the KMS key per region. */
  keys?: Array<{ region: string; keyArn: string }>;
};

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

/** An encrypted root snapshot for `name` in `region`: the key, an encrypted volume, its snapshot, a copy under the key. */
async function encryptedRootSnapshot(
  endpoint: string,
  region: string,
  credentials: Credentials,
  name: string,
): Promise<{ keyArn: string; snapshotId: string }> {
  const kms = new KMSClient({ endpoint, region, credentials });
  const ec2 = new EC2Client({ endpoint, region, credentials });
  try {
    const key = await kms.send(new CreateKeyCommand({ Description: `fleetops simulated image key for ${name}` }));
    const keyArn = key.KeyMetadata!.Arn!;
    const volume = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 8, Encrypted: true, KmsKeyId: keyArn }),
    );
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId! }));
    const copy = await ec2.send(
      new CopySnapshotCommand({
        SourceSnapshotId: snap.SnapshotId!,
        SourceRegion: region,
        Encrypted: true,
        KmsKeyId: keyArn,
        Description: `root of ${name}`,
      }),
    );
    return { keyArn, snapshotId: copy.SnapshotId! };
  } finally {
    kms.destroy();
    ec2.destroy();
  }
}

export async function runSimImageBuild(o: SimImageBuildOptions): Promise<SimImageBuild> {
  const cfg = loadStackConfig();
  const fleetFile = path.resolve(o.fleet ?? path.join(cfg.stateDir, 'fleet.yaml'));
  const manifestFile = path.resolve(o.manifest ?? path.join(cfg.stateDir, 'packer-manifest.json'));
  if (!o.name || /[,:]/.test(o.name)) throw new Error(`--name: expected an AMI name without , or :, got "${o.name}"`);
  const accounts = loadFleetFile(fleetFile);
  const imageAccount = accounts.find((a) => a.imageAccount)?.imageAccount;
  if (!imageAccount)
    throw new Error(`${fleetFile} has no defaults.imageAccount (run \`fleetops sim seed\`, which writes one)`);
  const regions = o.regions?.length ? o.regions : imageRegionsNeeded(accounts);
  if (regions.length === 0) throw new Error('--regions: none given and the fleet has no Auto Scaling groups');
  for (const region of regions)
    if (!RegionSchema.safeParse(region).success) throw new Error(`--regions: ${region} is not an AWS region`);

  // As the image account, through the proxy (which checks the ExternalId against the role's trust policy).
  const stored = await kvRead(cfg, imageAccount.externalIdRef);
  const externalId = stored?.data.externalId;
  if (typeof externalId !== 'string')
    throw new Error(`no ExternalId at ${imageAccount.externalIdRef}: run \`fleetops sim seed\` first`);
  const sts = new STSClient({
    endpoint: cfg.awsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fleetops-sim', secretAccessKey: 'fleetops-sim' },
  });
  const c = (
    await sts.send(
      new AssumeRoleCommand({
        RoleArn: imageAccount.roleArn,
        RoleSessionName: 'fleetops-sim-image-build',
        ExternalId: externalId,
      }),
    )
  ).Credentials!;
  const credentials = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  };

  const images: Array<{ region: string; imageId: string }> = [];
  const keys: Array<{ region: string; keyArn: string }> = [];
  for (const region of regions) {
    const ec2 = new EC2Client({ endpoint: cfg.awsEndpoint, region, credentials });
    const root = o.encrypted ? await encryptedRootSnapshot(cfg.awsEndpoint, region, credentials, o.name) : undefined;
    if (root) keys.push({ region, keyArn: root.keyArn });
    const out = await ec2.send(
      new RegisterImageCommand({
        Name: o.name,
        Description: `fleetops simulated Packer build ${o.name}`,
        Architecture: 'x86_64',
        RootDeviceName: '/dev/xvda',
        VirtualizationType: 'hvm',
        ...(root
          ? {
              BlockDeviceMappings: [
                {
                  DeviceName: '/dev/xvda',
                  Ebs: { SnapshotId: root.snapshotId, VolumeSize: 8, VolumeType: 'gp3', DeleteOnTermination: true },
                },
              ],
            }
          : {}),
      }),
    );
    await ec2.send(new CreateTagsCommand({ Resources: [out.ImageId!], Tags: [{ Key: 'Name', Value: o.name }] }));
    images.push({ region, imageId: out.ImageId! });
    ec2.destroy();
  }
  sts.destroy();

  let before: PackerManifest | undefined;
  if (fs.existsSync(manifestFile)) before = parsePackerManifest(fs.readFileSync(manifestFile, 'utf8'), manifestFile);
  const packerRunUuid = randomUUID();
  const manifest = withManifestBuild(before, {
    name: SIM_PACKER_BUILD_NAME,
    builder_type: 'amazon-ebs',
    build_time: Math.floor(Date.now() / 1000),
    files: null,
    artifact_id: formatArtifactId(images),
    packer_run_uuid: packerRunUuid,
    custom_data: { ami_name: o.name, ...(o.encrypted ? { encrypted: 'true' } : {}) },
  });
  fs.mkdirSync(path.dirname(manifestFile), { recursive: true });
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  if (!o.quiet)
    process.stderr.write(
      `built ${o.name}${o.encrypted ? ' (encrypted)' : ''} in the image account ${imageAccount.id}: ${formatArtifactId(images)}; manifest ${manifestFile}\n`,
    );
  return { manifest: manifestFile, packerRunUuid, images, ...(o.encrypted ? { keys } : {}) };
}
