/**
 * The EBS snapshots an AMI is registered with. moto's RegisterImage ignores BlockDeviceMappings and
 * RootDeviceName (every AMI gets a fresh unencrypted snapshot of its own on /dev/sda1), so an image
 * backed by an encrypted snapshot cannot exist in moto. The proxy fills that in the way AWS behaves:
 *  - RegisterImage with `BlockDeviceMapping.N.Ebs.SnapshotId`: the snapshots must exist in the caller's
 *    account (else InvalidSnapshot.NotFound, as AWS); they are read once (encryption is fixed for a
 *    snapshot's life) and recorded for the new image;
 *  - DescribeImages (own or shared images) answers those devices — snapshot id, size, volume type,
 *    `encrypted` — and the registered root device name. As in AWS, the KMS key is not in the image:
 *    its owner reads it from DescribeSnapshots (`KmsKeyId`).
 */
import { isOk, passThrough, type LayerResponse } from '../core/service-layer';
import type { Ec2Call } from './ec2-call';
import { childOf, childText, findElement, leaf, node, parseXml, type XmlElement } from './ec2-xml';

export interface RegisteredDevice {
  deviceName: string;
  snapshotId: string;
  volumeSize: string;
  volumeType: string;
  deleteOnTermination: string;
  encrypted: boolean;
}

export interface RegisteredImage {
  ownerAccount: string;
  region: string;
  imageId: string;
  rootDeviceName?: string;
  devices: RegisteredDevice[];
}

const key = (...parts: string[]): string => parts.join('\u0000');

export class ImageBlockDevices {
  private readonly images = new Map<string, RegisteredImage>();

  get size(): number {
    return this.images.size;
  }

  get(ownerAccount: string, region: string, imageId: string): RegisteredImage | undefined {
    return this.images.get(key(ownerAccount, region, imageId));
  }

  async registerImage(call: Ec2Call): Promise<LayerResponse> {
    const mappings = requestedDevices(call);
    if (mappings.length === 0) return passThrough(await call.forward());
    const read: Record<string, string> = { Action: 'DescribeSnapshots' };
    mappings.forEach((m, i) => (read[`SnapshotId.${i + 1}`] = m.snapshotId));
    const snaps = await call.motoAs(read);
    if (!isOk(snaps)) return passThrough(snaps);
    const found = new Map<string, XmlElement>();
    for (const item of childOf(parseXml(snaps.body.toString('utf8')), 'snapshotSet')?.children ?? [])
      found.set(childText(item, 'snapshotId') ?? '', item);
    const missing = mappings.filter((m) => !found.has(m.snapshotId)).map((m) => m.snapshotId);
    if (missing.length > 0)
      return call.error('InvalidSnapshot.NotFound', `The snapshot '${missing.join(', ')}' does not exist.`);

    const res = await call.forward();
    const imageId = isOk(res) ? /<imageId>([^<]+)<\/imageId>/.exec(res.body.toString('utf8'))?.[1] : undefined;
    if (!imageId) return passThrough(res);
    const rootDeviceName = call.params.get('RootDeviceName') ?? undefined;
    this.images.set(key(call.account, call.region, imageId), {
      ownerAccount: call.account,
      region: call.region,
      imageId,
      ...(rootDeviceName ? { rootDeviceName } : {}),
      devices: mappings.map((m) => {
        const snap = found.get(m.snapshotId);
        return {
          ...m,
          volumeSize: m.volumeSize ?? childText(snap, 'volumeSize') ?? '8',
          encrypted: childText(snap, 'encrypted') === 'true',
        };
      }),
    });
    return passThrough(res, 'forwarded(block-devices-recorded)');
  }

  /** Puts the registered devices into every image of a DescribeImages answer that has them. */
  rewrite(root: XmlElement, region: string): number {
    let changed = 0;
    for (const item of findElement(root, 'imagesSet')?.children ?? []) {
      const image = this.get(childText(item, 'imageOwnerId') ?? '', region, childText(item, 'imageId') ?? '');
      if (!image) continue;
      const mapping = node('blockDeviceMapping', image.devices.map(renderDevice));
      const at = item.children.findIndex((c) => c.name === 'blockDeviceMapping');
      if (at >= 0) item.children[at] = mapping;
      else item.children.push(mapping);
      const root = childOf(item, 'rootDeviceName');
      if (root && image.rootDeviceName) root.text = image.rootDeviceName;
      changed++;
    }
    return changed;
  }

  list(): RegisteredImage[] {
    return [...this.images.values()];
  }

  reset(): void {
    this.images.clear();
  }
}

type RequestedDevice = Omit<RegisteredDevice, 'encrypted' | 'volumeSize'> & { volumeSize?: string };

function requestedDevices(call: Ec2Call): RequestedDevice[] {
  const out: RequestedDevice[] = [];
  for (let i = 1; call.params.has(`BlockDeviceMapping.${i}.DeviceName`); i++) {
    const p = (f: string) => call.params.get(`BlockDeviceMapping.${i}.${f}`) ?? undefined;
    const snapshotId = p('Ebs.SnapshotId');
    if (!snapshotId) continue;
    const volumeSize = p('Ebs.VolumeSize');
    out.push({
      deviceName: p('DeviceName')!,
      snapshotId,
      ...(volumeSize ? { volumeSize } : {}),
      volumeType: p('Ebs.VolumeType') ?? 'gp3',
      deleteOnTermination: p('Ebs.DeleteOnTermination') ?? 'true',
    });
  }
  return out;
}

function renderDevice(d: RegisteredDevice): XmlElement {
  return node('item', [
    leaf('deviceName', d.deviceName),
    node('ebs', [
      leaf('snapshotId', d.snapshotId),
      leaf('volumeSize', d.volumeSize),
      leaf('deleteOnTermination', d.deleteOnTermination),
      leaf('volumeType', d.volumeType),
      leaf('encrypted', String(d.encrypted)),
    ]),
  ]);
}
