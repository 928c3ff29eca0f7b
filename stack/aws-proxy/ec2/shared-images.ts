/**
 * AMI sharing as AWS does it, on top of moto (whose accounts' EC2 never see each other):
 *  - ModifyImageAttribute (LaunchPermission Add/Remove UserId / OrganizationArn /
 *    OrganizationalUnitArn, or the older UserId.N with OperationType) is forwarded, and each principal
 *    added or removed is recorded (image-shares.ts). As in AWS, an add that would share the image with
 *    more than 1,000 accounts in the region is refused (ResourceLimitExceeded, nothing added);
 *    organization and OU permissions do not count (the count is read from moto's launch permissions,
 *    so shares made before a proxy restart count too);
 *  - DescribeImages in a consumer account also answers the images shared with it (directly, or with
 *    its organization or an OU it is in: account-organizations.ts) — by ImageIds, by
 *    Owners (the owner's account id), with ExecutableUsers=self or the account id, or unscoped —
 *    read from the owner account in moto. As in AWS the owner's tags are not shown to the consumer,
 *    so tag filters never match a shared image; `image-id`, `name`, `state`, `owner-id`, `is-public`,
 *    `architecture` and `image-type` filters are applied, any other filter does not match it.
 *    ImageIds that are neither the account's own nor shared with it are refused with
 *    InvalidAMIID.NotFound, naming them (moto only refuses when none is found).
 */
import { isOk, passThrough, type LayerResponse } from '../core/service-layer';
import type { BufferedResponse } from '../core/upstream-forwarder';
import { ORGANIZATION_ARN, ORGANIZATIONAL_UNIT_ARN } from './account-organizations';
import { ec2ErrorCode, type Ec2Call } from './ec2-call';
import { childOf, childText, findElement, parseXml, renderXmlDocument, type XmlElement } from './ec2-xml';
import type { ImageBlockDevices } from './image-block-devices';
import { MAX_ACCOUNT_SHARES_PER_IMAGE, type ImageShares, type SharedImageRef } from './image-shares';

const ACCOUNT_ID = /^\d{12}$/;
const isPrincipal = (p: string) => ACCOUNT_ID.test(p) || ORGANIZATION_ARN.test(p) || ORGANIZATIONAL_UNIT_ARN.test(p);

/** The principals (account ids, organization and OU ARNs) a ModifyImageAttribute request adds and removes. */
export function launchPermissionChanges(call: Ec2Call): { add: string[]; remove: string[] } {
  const principals = (op: 'Add' | 'Remove'): string[] =>
    [...call.params]
      .filter(([name]) =>
        new RegExp(`^LaunchPermission\\.${op}\\.\\d+\\.(UserId|OrganizationArn|OrganizationalUnitArn)$`).test(name),
      )
      .map(([, v]) => v);
  const add = principals('Add');
  const remove = principals('Remove');
  const legacy = [...call.list('UserId'), ...call.list('OrganizationArn'), ...call.list('OrganizationalUnitArn')];
  const op = (call.params.get('OperationType') ?? '').toLowerCase();
  if (legacy.length > 0 && op === 'add') add.push(...legacy);
  if (legacy.length > 0 && op === 'remove') remove.push(...legacy);
  return { add: add.filter(isPrincipal), remove: remove.filter(isPrincipal) };
}

/** The accounts the image's launch permissions name now, read from moto as the owner. */
async function sharedAccounts(call: Ec2Call, imageId: string): Promise<Set<string> | undefined> {
  const res = await call.motoAs({ Action: 'DescribeImageAttribute', ImageId: imageId, Attribute: 'launchPermission' });
  if (!isOk(res)) return undefined;
  const list = findElement(parseXml(res.body.toString('utf8')), 'launchPermission');
  return new Set(
    (list?.children ?? []).map((item) => childText(item, 'userId')).filter((u): u is string => u !== undefined),
  );
}

export async function modifyImageAttribute(call: Ec2Call, shares: ImageShares): Promise<LayerResponse> {
  const imageId = call.params.get('ImageId');
  const { add, remove } = launchPermissionChanges(call);
  const addAccounts = [...new Set(add.filter((p) => ACCOUNT_ID.test(p)))];
  if (imageId && addAccounts.length > 0) {
    const current = await sharedAccounts(call, imageId);
    const adding = addAccounts.filter((u) => !current?.has(u) && !remove.includes(u));
    const after = (current?.size ?? 0) + adding.length - remove.filter((u) => current?.has(u)).length;
    if (current && adding.length > 0 && after > MAX_ACCOUNT_SHARES_PER_IMAGE)
      return call.error(
        'ResourceLimitExceeded',
        `You have exceeded the limit of ${MAX_ACCOUNT_SHARES_PER_IMAGE} AWS accounts an image can be shared with in ` +
          `${call.region}: ${imageId} is shared with ${current.size} accounts and the request adds ${adding.length}. ` +
          'Share it with an organization or organizational unit instead.',
      );
  }
  const res = await call.forward();
  if (!isOk(res) || !imageId) return passThrough(res);
  for (const principal of add) shares.added(call.account, call.region, imageId, principal);
  for (const principal of remove) shares.removed(call.account, call.region, imageId, principal);
  return passThrough(res, add.length + remove.length > 0 ? 'forwarded(shares-recorded)' : 'forwarded');
}

interface ImageFilter {
  name: string;
  values: string[];
}

function filtersOf(call: Ec2Call): ImageFilter[] {
  const filters: ImageFilter[] = [];
  for (const [name, value] of call.params) {
    const m = /^Filter\.(\d+)\.Name$/.exec(name);
    if (m) filters.push({ name: value, values: call.list(`Filter.${m[1]}.Value`) });
  }
  return filters;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

const FILTER_FIELDS: Record<string, string> = {
  'image-id': 'imageId',
  name: 'name',
  state: 'imageState',
  'owner-id': 'imageOwnerId',
  'is-public': 'isPublic',
  architecture: 'architecture',
  'image-type': 'imageType',
};

/** Whether a shared image `item` passes every filter (see the file comment for which ones apply). */
export function sharedImageMatches(item: XmlElement, filters: ImageFilter[]): boolean {
  return filters.every((f) => {
    const field = FILTER_FIELDS[f.name];
    if (!field) return false;
    const value = childText(item, field) ?? '';
    return f.values.some((v) => wildcard(v).test(value));
  });
}

/** Which shared images a DescribeImages request without ImageIds asks for. */
function scopedShares(call: Ec2Call, shared: SharedImageRef[]): SharedImageRef[] {
  const owners = call.list('Owner');
  const executableBy = call.list('ExecutableBy');
  return shared.filter((s) => {
    if (owners.length > 0 && !owners.includes(s.ownerAccount)) return false;
    if (executableBy.length > 0 && !executableBy.some((u) => u === 'self' || u === call.account)) return false;
    return true;
  });
}

/** The images (`<item>`s) `refs` name, read from their owner accounts in moto, owner tags hidden. */
async function readSharedImages(call: Ec2Call, refs: SharedImageRef[]): Promise<XmlElement[]> {
  const byOwner = new Map<string, string[]>();
  for (const r of refs) byOwner.set(r.ownerAccount, [...(byOwner.get(r.ownerAccount) ?? []), r.imageId]);
  const items: XmlElement[] = [];
  for (const [owner, ids] of byOwner) {
    const params: Record<string, string> = { Action: 'DescribeImages' };
    ids.forEach((id, i) => (params[`ImageId.${i + 1}`] = id));
    const res = await call.motoAs(params, owner);
    if (!isOk(res)) continue; // deregistered meanwhile: no longer visible
    const imagesSet = childOf(parseXml(res.body.toString('utf8')), 'imagesSet');
    for (const item of imagesSet?.children ?? []) {
      const tagSet = childOf(item, 'tagSet');
      if (tagSet) tagSet.children = [];
      items.push(item);
    }
  }
  return items;
}

function emptyDescribeImages(): XmlElement {
  return parseXml(
    '<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fleetops-aws-proxy</requestId><imagesSet/></DescribeImagesResponse>',
  );
}

export async function describeImages(
  call: Ec2Call,
  shares: ImageShares,
  devices: ImageBlockDevices,
): Promise<LayerResponse> {
  const shared = shares.sharedWith(call.account, call.region);
  const res = await call.forward();
  if (shared.length === 0) return withRegisteredDevices(res, call.region, devices);

  const imageIds = call.list('ImageId');
  const notFound = ec2ErrorCode(res) === 'InvalidAMIID.NotFound';
  if (!isOk(res) && !notFound) return passThrough(res);

  const wanted = imageIds.length > 0 ? shared.filter((s) => imageIds.includes(s.imageId)) : scopedShares(call, shared);
  const filters = filtersOf(call);
  const items = (await readSharedImages(call, wanted)).filter((item) => sharedImageMatches(item, filters));

  const root = notFound ? emptyDescribeImages() : parseXml(res.body.toString('utf8'));
  let imagesSet = childOf(root, 'imagesSet');
  if (!imagesSet) {
    imagesSet = { name: 'imagesSet', attrs: '', children: [], text: '' };
    root.children.push(imagesSet);
  }
  const present = new Set(imagesSet.children.map((i) => childText(i, 'imageId')));
  for (const item of items) if (!present.has(childText(item, 'imageId'))) imagesSet.children.push(item);

  if (imageIds.length > 0) {
    const found = new Set(imagesSet.children.map((i) => childText(i, 'imageId')));
    const missing = imageIds.filter((id) => !found.has(id));
    if (missing.length > 0)
      return call.error('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
  } else if (notFound) {
    return passThrough(res);
  }
  devices.rewrite(root, call.region);
  const body = Buffer.from(renderXmlDocument(root));
  return {
    status: 200,
    headers: { ...res.headers, 'content-type': 'text/xml;charset=UTF-8' },
    body,
    outcome: `forwarded(+${items.length} shared)`,
    forwarded: true,
  };
}

/** moto's own answer with the registered block devices of its images (image-block-devices.ts), if any. */
function withRegisteredDevices(res: BufferedResponse, region: string, devices: ImageBlockDevices): LayerResponse {
  if (devices.size === 0 || !isOk(res)) return passThrough(res);
  const root = parseXml(res.body.toString('utf8'));
  if (devices.rewrite(root, region) === 0) return passThrough(res);
  return passThrough(res, 'forwarded(block-devices)', Buffer.from(renderXmlDocument(root)));
}
