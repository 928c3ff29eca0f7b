/**
 * Validates a parsed fleet file (plain data, e.g. from YAML) and resolves defaults. Reports every
 * problem in the file — all accounts, all fields, cross-field and cross-account rules — never just
 * the first. Pure and deterministic.
 */
import type { z } from 'zod';
import { partitionOfRegion, type AwsPartition } from './aws-regions';
import {
  ACCOUNT_FIELDS,
  ACCOUNT_ID_PATTERN,
  ACCOUNT_STATES,
  AUTO_SCALING_GROUP_FIELDS,
  DEFAULTS_FIELDS,
  GROUP_TAG_FIELDS,
  IMAGE_ACCOUNT_FIELDS,
  IMAGE_SHARING_FIELDS,
  FLEET_FILE_FIELDS,
  FleetFileSchema,
  MAINTENANCE_WINDOW_FIELDS,
  PIPELINE_FIELDS,
  ROLE_ARN_PATTERN,
  type AccountState,
  type FleetAccount,
  type FleetDefaults,
  type FleetFile,
  type ImageAccount,
  type ImageSharing,
  type RawAccount,
  type AutoScalingGroupEntry,
} from './fleet-schema';
import {
  formatFleetPath,
  unknownFieldHint,
  type FleetPathSegment,
  type FleetProblem,
  type LocatedProblem,
} from './fleet-problems';
import { accountSecretProblems, defaultSecretProblems, mergeAccountSecrets } from './fleet-secrets';
import { accountGroupProblems, defaultGroupProblems, imageAccountProblems, resolveImageAccount } from './fleet-images';

export type FleetValidationResult = { ok: true; accounts: FleetAccount[] } | { ok: false; problems: FleetProblem[] };

export type ValidateFleetOptions = {
  /** Maps a path (`['accounts', 3, 'pipeline', 'version']`) to a 1-based source line. */
  lineOf?: (path: (string | number)[]) => number | undefined;
};

type Located = LocatedProblem;
type Rec = Record<string, unknown>;

const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

export function validateFleet(raw: unknown, opts: ValidateFleetOptions = {}): FleetValidationResult {
  const found: Located[] = [];
  const parsed = FleetFileSchema.safeParse(raw);
  if (!parsed.success) found.push(...issuesToProblems(parsed.error.issues));
  if (isRecord(raw)) found.push(...crossFieldProblems(raw, opts));

  if (found.length > 0 || !parsed.success) {
    return { ok: false, problems: sortProblems(found.map((p) => toFleetProblem(p, raw, opts))) };
  }
  return { ok: true, accounts: resolveAccounts(parsed.data) };
}

// ---------------------------------------------------------------------------------------------
// zod issues → problems

function issuesToProblems(issues: readonly z.core.$ZodIssue[]): Located[] {
  const out: Located[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: unknownFieldMessage(path, key) });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

const PER_ACCOUNT_ONLY = new Set(['id', 'customer', 'ring', 'roleArn', 'externalIdRef', 'state', 'reason']);
const DEFAULTS_ONLY = new Set(['imageAccount', 'imageSharing']);

function unknownFieldMessage(parent: readonly FleetPathSegment[], key: string): string {
  const known = knownFieldsAt(parent);
  if (parent.length === 1 && parent[0] === 'defaults' && PER_ACCOUNT_ONLY.has(key)) {
    return `"${key}" is not allowed in defaults: set it per account (defaults may have ${known.join(', ')})`;
  }
  if (parent.length === 2 && parent[0] === 'accounts' && DEFAULTS_ONLY.has(key)) {
    return `"${key}" is not allowed per account: set it once in defaults (one per fleet file)`;
  }
  return `unknown field "${key}" (${unknownFieldHint(known, key)})`;
}

function knownFieldsAt(parent: readonly FleetPathSegment[]): readonly string[] {
  const last = parent[parent.length - 1];
  if (parent.length === 0) return FLEET_FILE_FIELDS;
  if (parent.length === 1 && last === 'defaults') return DEFAULTS_FIELDS;
  if (parent.length === 2 && parent[0] === 'accounts') return ACCOUNT_FIELDS;
  if (last === 'pipeline') return PIPELINE_FIELDS;
  if (last === 'maintenanceWindow') return MAINTENANCE_WINDOW_FIELDS;
  if (last === 'imageAccount') return IMAGE_ACCOUNT_FIELDS;
  if (last === 'imageSharing') return IMAGE_SHARING_FIELDS;
  if (last === 'tag' && parent[parent.length - 3] === 'autoScalingGroups') return GROUP_TAG_FIELDS;
  if (typeof last === 'number' && parent[parent.length - 2] === 'autoScalingGroups') return AUTO_SCALING_GROUP_FIELDS;
  return [];
}

// ---------------------------------------------------------------------------------------------
// Rules across fields (after defaults) and across accounts; run on the raw data so they are
// reported together with every field-level problem.

function crossFieldProblems(raw: Rec, opts: ValidateFleetOptions): Located[] {
  const out: Located[] = [];
  const defaults = isRecord(raw.defaults) ? raw.defaults : {};
  const defaultPipeline = isRecord(defaults.pipeline) ? defaults.pipeline : {};

  const defaultPartitions = partitionsOf(defaults.regions);
  if (defaultPartitions.length > 1) {
    out.push({ path: ['defaults', 'regions'], message: mixedPartitionsMessage(defaultPartitions) });
  }

  out.push(...defaultSecretProblems(defaults.secrets));

  const accounts = Array.isArray(raw.accounts) ? raw.accounts : [];
  out.push(...imageAccountProblems(defaults, accounts), ...defaultGroupProblems(defaults));
  const indexesById = new Map<string, number[]>();

  accounts.forEach((account: unknown, i) => {
    if (!isRecord(account)) return;
    const at = (...rest: FleetPathSegment[]): FleetPathSegment[] => ['accounts', i, ...rest];
    const id = typeof account.id === 'string' ? account.id : undefined;
    if (id !== undefined) indexesById.set(id, [...(indexesById.get(id) ?? []), i]);

    // Role: exactly one of roleName / roleArn once defaults are applied (an own roleArn wins over defaults.roleName).
    const hasName = account.roleName !== undefined;
    const hasArn = account.roleArn !== undefined;
    if (hasName && hasArn) {
      out.push({ path: at('roleArn'), message: 'set either roleName or roleArn, not both' });
    } else if (!hasName && !hasArn && defaults.roleName === undefined) {
      out.push({ path: at('roleName'), message: 'required: set roleName or roleArn here, or roleName in defaults' });
    }
    const arn = typeof account.roleArn === 'string' ? ROLE_ARN_PATTERN.exec(account.roleArn) : null;
    if (arn && id !== undefined && ACCOUNT_ID_PATTERN.test(id) && arn[2] !== id) {
      out.push({ path: at('roleArn'), message: `role ARN is in account ${arn[2]}, not in this account (${id})` });
    }

    // Regions: present after defaults, one partition, matching a roleArn's partition.
    const ownRegions = account.regions !== undefined;
    if (!ownRegions && defaults.regions === undefined) {
      out.push({ path: at('regions'), message: 'required: list at least one region here or in defaults.regions' });
    }
    const partitions = ownRegions ? partitionsOf(account.regions) : defaultPartitions;
    if (ownRegions && partitions.length > 1) {
      out.push({ path: at('regions'), message: mixedPartitionsMessage(partitions) });
    }
    if (arn && partitions.length === 1 && arn[1] !== partitions[0]) {
      out.push({
        path: at('roleArn'),
        message: `role ARN is in partition ${arn[1]} but the account's regions are in ${partitions[0]}`,
      });
    }

    // Pipeline: stackName and version present after defaults.
    if (account.pipeline === undefined || isRecord(account.pipeline)) {
      const own = account.pipeline ?? {};
      for (const field of ['stackName', 'version'] as const) {
        if (own[field] === undefined && defaultPipeline[field] === undefined) {
          out.push({ path: at('pipeline', field), message: `required (here or in defaults.pipeline.${field})` });
        }
      }
    }

    // Secrets: each entry complete once merged over defaults.secrets, its region among the account's.
    out.push(...accountSecretProblems(account, i, defaults.secrets, defaults.regions));

    // Auto Scaling groups: regions among the account's, no group twice.
    out.push(...accountGroupProblems(account, i, defaults));

    // reason iff quarantined.
    const state = account.state ?? 'active';
    if (state === 'quarantined' && account.reason === undefined) {
      out.push({
        path: at('reason'),
        message: 'required when state is quarantined: say why the account was quarantined',
      });
    } else if (isAccountState(state) && state !== 'quarantined' && account.reason !== undefined) {
      out.push({ path: at('reason'), message: `only allowed when state is quarantined (state is ${state})` });
    }
  });

  for (const [id, indexes] of indexesById) {
    if (indexes.length < 2) continue;
    indexes.forEach((index, n) => {
      if (n === 0) return;
      const others = indexes
        .filter((other) => other !== index)
        .map((other) => {
          const line = opts.lineOf?.(['accounts', other, 'id']);
          return line !== undefined ? `accounts[${other}] (line ${line})` : `accounts[${other}]`;
        });
      out.push({ path: ['accounts', index, 'id'], message: `duplicate id ${id}: also used by ${others.join(', ')}` });
    });
  }
  return out;
}

const isAccountState = (value: unknown): value is AccountState =>
  typeof value === 'string' && (ACCOUNT_STATES as readonly string[]).includes(value);

function partitionsOf(regions: unknown): AwsPartition[] {
  if (!Array.isArray(regions)) return [];
  const partitions = new Set<AwsPartition>();
  for (const region of regions) {
    const partition = typeof region === 'string' ? partitionOfRegion(region) : undefined;
    if (partition) partitions.add(partition);
  }
  return [...partitions];
}

const mixedPartitionsMessage = (partitions: readonly string[]) =>
  `regions span partitions ${partitions.join(', ')}: an account lives in exactly one partition`;

// ---------------------------------------------------------------------------------------------

function toFleetProblem(found: Located, raw: unknown, opts: ValidateFleetOptions): FleetProblem {
  const problem: FleetProblem = { path: formatFleetPath(found.path), message: found.message };
  const [first, index] = found.path;
  if (first === 'accounts' && typeof index === 'number') {
    problem.accountIndex = index;
    const accounts = isRecord(raw) && Array.isArray(raw.accounts) ? raw.accounts : [];
    const account: unknown = accounts[index];
    const id = isRecord(account) ? account.id : undefined;
    if (typeof id === 'string' || typeof id === 'number') problem.accountId = String(id);
  }
  const line = opts.lineOf?.(found.path);
  if (line !== undefined) problem.line = line;
  return problem;
}

/** File-level problems first, then by account; within that by line when known (stable otherwise). */
function sortProblems(problems: FleetProblem[]): FleetProblem[] {
  return problems
    .map((problem, order) => ({ problem, order }))
    .sort((a, b) => {
      const ai = a.problem.accountIndex ?? -1;
      const bi = b.problem.accountIndex ?? -1;
      if (ai !== bi) return ai - bi;
      const al = a.problem.line;
      const bl = b.problem.line;
      if (al !== undefined && bl !== undefined && al !== bl) return al - bl;
      return a.order - b.order;
    })
    .map(({ problem }) => problem);
}

// ---------------------------------------------------------------------------------------------
// Resolution (only reached when there are no problems, so required values are present).

function resolveAccounts(file: FleetFile): FleetAccount[] {
  const defaults: FleetDefaults = file.defaults ?? {};
  const imageAccount = defaults.imageAccount
    ? Object.freeze(resolveImageAccount(defaults.imageAccount, defaults.roleName, defaults.regions))
    : undefined;
  const sharing = defaults.imageSharing;
  const imageSharing: ImageSharing | undefined = sharing?.organizationArn
    ? { kind: 'organization', arn: sharing.organizationArn }
    : sharing?.organizationalUnitArn
      ? { kind: 'organizational-unit', arn: sharing.organizationalUnitArn }
      : undefined;
  return file.accounts.map((account) => ({
    ...resolveAccount(account, defaults, imageAccount),
    ...(imageSharing ? { imageSharing } : {}),
  }));
}

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} missing after validation`);
  return value;
}

function resolveAccount(account: RawAccount, defaults: FleetDefaults, imageAccount?: ImageAccount): FleetAccount {
  const regions = [...present(account.regions ?? defaults.regions, 'regions')];
  const partition = partitionOfRegion(regions[0]) ?? 'aws';
  const roleArn =
    account.roleArn ??
    `arn:${partition}:iam::${account.id}:role/${present(account.roleName ?? defaults.roleName, 'roleName')}`;
  const window =
    account.maintenanceWindow === null ? undefined : (account.maintenanceWindow ?? defaults.maintenanceWindow);
  const secrets = mergeAccountSecrets(defaults.secrets, account.secrets);
  const groups = account.autoScalingGroups ?? defaults.autoScalingGroups;

  return {
    id: account.id,
    customer: account.customer,
    ring: account.ring,
    regions,
    roleArn,
    externalIdRef: account.externalIdRef,
    pipeline: {
      stackName: present(account.pipeline?.stackName ?? defaults.pipeline?.stackName, 'pipeline.stackName'),
      version: present(account.pipeline?.version ?? defaults.pipeline?.version, 'pipeline.version'),
    },
    ...(window !== undefined ? { maintenanceWindow: { ...window, days: [...window.days] } } : {}),
    tags: { ...defaults.tags, ...account.tags },
    ...(secrets !== undefined ? { secrets } : {}),
    ...(groups !== undefined ? { autoScalingGroups: groups.map(copyGroupEntry) } : {}),
    ...(imageAccount !== undefined ? { imageAccount } : {}),
    state: account.state ?? 'active',
    ...(account.reason !== undefined ? { reason: account.reason } : {}),
  };
}

function copyGroupEntry(entry: AutoScalingGroupEntry): AutoScalingGroupEntry {
  return {
    ...(entry.region !== undefined ? { region: entry.region } : {}),
    ...(entry.name !== undefined ? { name: entry.name } : {}),
    ...(entry.tag !== undefined ? { tag: { key: entry.tag.key, value: entry.tag.value } } : {}),
  };
}
