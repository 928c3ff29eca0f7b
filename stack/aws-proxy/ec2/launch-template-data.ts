/**
 * A launch template version's data as moto answers it (`<launchTemplateData>` XML) turned back into
 * the form fields a CreateLaunchTemplateVersion request carries (`LaunchTemplateData.*`), and the
 * overlay AWS applies for `SourceVersion`: each top-level field sent replaces the source's field of
 * that name as a whole (a `BlockDeviceMapping.1.*` sent replaces every source block device mapping);
 * fields not sent are kept from the source version.
 *
 * EC2 names the two sides by one convention — element `fooBar` is field `FooBar`, a list
 * `fooBarSet` of `<item>`s is `FooBar.1`, `FooBar.2`, … — with one exception at the top level
 * (`licenseSet` is `LicenseSpecification`), checked against botocore's EC2 model.
 */
import type { XmlElement } from './ec2-xml';

const PREFIX = 'LaunchTemplateData.';
const RENAMED: Record<string, string> = { licenseSet: 'LicenseSpecification' };

const capitalise = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

function fieldName(el: XmlElement): string {
  if (Object.hasOwn(RENAMED, el.name)) return RENAMED[el.name];
  const isList = el.name.endsWith('Set') && el.children.length > 0 && el.children.every((c) => c.name === 'item');
  return capitalise(isList || el.name.endsWith('Set') ? el.name.slice(0, -3) : el.name);
}

function flatten(el: XmlElement, path: string, out: Array<[string, string]>): void {
  const isList = el.name.endsWith('Set') && el.children.every((c) => c.name === 'item');
  if (isList) {
    el.children.forEach((item, i) => {
      const itemPath = `${path}.${i + 1}`;
      if (item.children.length === 0) out.push([itemPath, item.text]);
      else for (const c of item.children) flatten(c, `${itemPath}.${fieldName(c)}`, out);
    });
    return;
  }
  if (el.children.length === 0) {
    out.push([path, el.text]);
    return;
  }
  for (const c of el.children) flatten(c, `${path}.${fieldName(c)}`, out);
}

/** `<launchTemplateData>` → `[['LaunchTemplateData.ImageId', 'ami-…'], …]`. */
export function launchTemplateDataFields(data: XmlElement): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of data.children) flatten(c, `${PREFIX}${fieldName(c)}`, out);
  return out;
}

/** The top-level field a form field belongs to (`LaunchTemplateData.BlockDeviceMapping.1.Ebs.VolumeSize` → `BlockDeviceMapping`). */
export function topLevelField(formName: string): string | undefined {
  if (!formName.startsWith(PREFIX)) return undefined;
  return formName.slice(PREFIX.length).split('.')[0];
}

/**
 * The request's form with the source version's data under what was sent: every non-data field and
 * every sent data field as is, plus the source's fields whose top-level field was not sent.
 */
export function overlaySourceVersion(request: URLSearchParams, source: Array<[string, string]>): URLSearchParams {
  const sent = new Set<string>();
  for (const [name] of request) {
    const top = topLevelField(name);
    if (top) sent.add(top);
  }
  const merged = new URLSearchParams(request);
  for (const [name, value] of source) {
    const top = topLevelField(name);
    if (top && !sent.has(top)) merged.append(name, value);
  }
  return merged;
}
