/**
 * AMI rollouts in the fleet file: `defaults.imageAccount` (where releases come from) and the Auto
 * Scaling groups per account (`defaults.autoScalingGroups`, replaced by an account's own list) — the
 * rules that span fields (a group's region among the account's, the same group twice, the image
 * account's role), and resolution into per-region targets. Pure: imported by workflow code.
 */
import { isAwsRegion, partitionOfRegion } from './aws-regions';
import { ACCOUNT_ID_PATTERN } from './fleet-fields';
import type { AutoScalingGroupEntry, FleetAccount, ImageAccount, ImageAccountEntry } from './fleet-schema';
import type { FleetPathSegment, LocatedProblem } from './fleet-problems';

type Rec = Record<string, unknown>;
const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * One group an AMI rollout moves, in one region: by name, or every group in the region carrying a tag.
 * `resolveAutoScalingGroups` gives an account's list; the workflow works per target.
 */
export type AutoScalingGroupTarget =
  { region: string; by: 'name'; name: string } | { region: string; by: 'tag'; tag: { key: string; value: string } };

/** `eu-west-1 group data-pipeline-workers` / `eu-west-1 groups tagged fleetops:pipeline=workers`. */
export function describeGroupTarget(target: AutoScalingGroupTarget): string {
  return target.by === 'name'
    ? `${target.region} group ${target.name}`
    : `${target.region} groups tagged ${target.tag.key}=${target.tag.value}`;
}

/** Same region and same selector (for duplicates). */
const targetKey = (t: AutoScalingGroupTarget) =>
  t.by === 'name' ? `${t.region}\0name\0${t.name}` : `${t.region}\0tag\0${t.tag.key}\0${t.tag.value}`;

/**
 * The account's group targets: each declared entry in its `region`, or in every region of the account
 * when it has none, in the order written (then by the account's region order). Empty when the account
 * has no groups. Duplicates (refused by validation) are dropped.
 */
export function resolveAutoScalingGroups(
  account: Pick<FleetAccount, 'regions' | 'autoScalingGroups'>,
): AutoScalingGroupTarget[] {
  const out: AutoScalingGroupTarget[] = [];
  const seen = new Set<string>();
  for (const entry of account.autoScalingGroups ?? []) {
    for (const target of expandEntry(entry, account.regions)) {
      const key = targetKey(target);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(target);
    }
  }
  return out;
}

function expandEntry(entry: AutoScalingGroupEntry, regions: readonly string[]): AutoScalingGroupTarget[] {
  return (entry.region !== undefined ? [entry.region] : regions).flatMap((region): AutoScalingGroupTarget[] => {
    if (entry.name !== undefined) return [{ region, by: 'name', name: entry.name }];
    if (entry.tag !== undefined) return [{ region, by: 'tag', tag: { key: entry.tag.key, value: entry.tag.value } }];
    return [];
  });
}

/**
 * The regions an image release must cover for these accounts: every region where at least one of them
 * has a group target, sorted. (Accounts without groups need none.)
 */
export function imageRegionsNeeded(accounts: readonly Pick<FleetAccount, 'regions' | 'autoScalingGroups'>[]): string[] {
  const regions = new Set<string>();
  for (const account of accounts) for (const t of resolveAutoScalingGroups(account)) regions.add(t.region);
  return [...regions].sort();
}

/** The image account with its role ARN (partition from the fleet's default regions). */
export function resolveImageAccount(
  entry: ImageAccountEntry,
  defaultRoleName: string | undefined,
  regions: readonly string[] | undefined,
): ImageAccount {
  const roleName = entry.roleName ?? defaultRoleName;
  if (roleName === undefined) throw new Error('internal: imageAccount.roleName missing after validation');
  const partition = (regions?.[0] !== undefined ? partitionOfRegion(regions[0]) : undefined) ?? 'aws';
  return {
    id: entry.id,
    roleArn: `arn:${partition}:iam::${entry.id}:role/${roleName}`,
    externalIdRef: entry.externalIdRef,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks across fields, on the raw data (field values are checked by the schema).

/** `defaults.imageAccount`: a role name here or in `defaults.roleName`; not one of the fleet's own accounts. */
export function imageAccountProblems(defaults: Rec, accounts: readonly unknown[]): LocatedProblem[] {
  const image = defaults.imageAccount;
  if (!isRecord(image)) return [];
  const out: LocatedProblem[] = [];
  if (image.roleName === undefined && defaults.roleName === undefined) {
    out.push({
      path: ['defaults', 'imageAccount', 'roleName'],
      message: 'required: set imageAccount.roleName, or roleName in defaults',
    });
  }
  if (typeof image.id === 'string' && ACCOUNT_ID_PATTERN.test(image.id)) {
    const index = accounts.findIndex((a) => isRecord(a) && a.id === image.id);
    if (index >= 0) {
      out.push({
        path: ['defaults', 'imageAccount', 'id'],
        message: `the image account ${image.id} is also accounts[${index}]: images are built and shared from an account of their own`,
      });
    }
  }
  return out;
}

/**
 * One account's groups: each entry's `region` (own or from defaults) among the account's regions
 * (after defaults), and no group named twice once regions are expanded. A default entry whose region
 * the account lacks is reported at the account (`autoScalingGroups`), saying which default it is.
 */
export function accountGroupProblems(account: Rec, index: number, defaults: Rec): LocatedProblem[] {
  const own = account.autoScalingGroups;
  const fromDefaults = own === undefined;
  const list = fromDefaults ? defaults.autoScalingGroups : own;
  if (!Array.isArray(list)) return [];
  const rawRegions = account.regions !== undefined ? account.regions : defaults.regions;
  const regions = Array.isArray(rawRegions)
    ? rawRegions.filter((r): r is string => typeof r === 'string' && isAwsRegion(r))
    : [];
  const out: LocatedProblem[] = [];
  const at = (...rest: FleetPathSegment[]): FleetPathSegment[] => ['accounts', index, 'autoScalingGroups', ...rest];
  const seen = new Map<string, number>();
  list.forEach((raw: unknown, j) => {
    if (!isRecord(raw)) return; // reported by the schema
    const entry = raw as AutoScalingGroupEntry;
    const region = entry.region;
    if (typeof region === 'string' && isAwsRegion(region) && regions.length > 0 && !regions.includes(region)) {
      out.push(
        fromDefaults
          ? {
              path: at(),
              message: `defaults.autoScalingGroups[${j}] is in region ${region}, not one of the account's regions (${regions.join(', ')}): give the account its own autoScalingGroups`,
            }
          : {
              path: at(j, 'region'),
              message: `region ${region} is not one of the account's regions (${regions.join(', ')})`,
            },
      );
      return;
    }
    if (fromDefaults) return; // duplicates inside the defaults are reported once, at defaults
    for (const target of expandEntry(entry, regions)) {
      const key = targetKey(target);
      const first = seen.get(key);
      if (first !== undefined && first !== j) {
        out.push({
          path: at(j),
          message: `${describeGroupTarget(target)} is already listed at autoScalingGroups[${first}]`,
        });
        break;
      }
      seen.set(key, j);
    }
  });
  return out;
}

/** Duplicates in `defaults.autoScalingGroups` (same region, or both region-less, and the same selector). */
export function defaultGroupProblems(defaults: Rec): LocatedProblem[] {
  const list = defaults.autoScalingGroups;
  if (!Array.isArray(list)) return [];
  const out: LocatedProblem[] = [];
  const seen = new Map<string, number>();
  list.forEach((raw: unknown, j) => {
    if (!isRecord(raw)) return;
    const entry = raw as AutoScalingGroupEntry;
    const selector =
      typeof entry.name === 'string'
        ? `name\0${entry.name}`
        : isRecord(entry.tag)
          ? `tag\0${String(entry.tag.key)}\0${String(entry.tag.value)}`
          : undefined;
    if (selector === undefined) return;
    const key = `${typeof entry.region === 'string' ? entry.region : '*'}\0${selector}`;
    const first = seen.get(key);
    if (first !== undefined) {
      out.push({
        path: ['defaults', 'autoScalingGroups', j],
        message: `the same group is already listed at defaults.autoScalingGroups[${first}]`,
      });
    } else seen.set(key, j);
  });
  return out;
}
