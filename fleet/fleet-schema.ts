/**
 * The fleet file contract (YAML, user-facing) as zod schemas, and the resolved account type the
 * rest of fleetops works with. Pure. Workflow code imports the field-level parts from fleet-fields.ts
 * (re-exported here), not this module.
 *
 * Field-level rules live here; rules that span fields or accounts (exactly one of roleName/roleArn
 * after defaults, roleArn in the account's own id, reason iff quarantined, unique ids, ...) live
 * in validate-fleet.ts so that every problem is reported, not only the first one.
 */
import { z } from 'zod';
import {
  ACCOUNT_STATES,
  AccountIdSchema,
  HHMM_PATTERN,
  IAM_ROLE_NAME_PATTERN,
  IAM_USER_NAME_PATTERN,
  KV2_PATH_PATTERN,
  ROLE_ARN_PATTERN,
  RegionSchema,
  RingSchema,
  SECRETS_MANAGER_NAME_PATTERN,
  STACK_NAME_PATTERN,
  SemverSchema,
  WEEKDAYS,
  describeValue,
  expected,
  oneOf,
  type AccountState,
  type Ring,
} from './fleet-fields';

export {
  ACCOUNT_ID_PATTERN,
  ACCOUNT_STATES,
  AccountIdSchema,
  HHMM_PATTERN,
  IAM_ROLE_NAME_PATTERN,
  IAM_USER_NAME_PATTERN,
  KV2_PATH_PATTERN,
  RINGS,
  ROLE_ARN_PATTERN,
  RegionSchema,
  RingSchema,
  SECRETS_MANAGER_NAME_PATTERN,
  SECRET_NAME_PATTERN,
  SEMVER_PATTERN,
  STACK_NAME_PATTERN,
  SecretNameSchema,
  SemverSchema,
  WEEKDAYS,
  describeValue,
  type AccountState,
  type Ring,
  type Weekday,
} from './fleet-fields';

/** True for an IANA time zone name the runtime knows (`Europe/London`, `UTC`, ...). */
export function isValidTimeZone(timeZone: string): boolean {
  let valid = timeZoneValidity.get(timeZone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat(undefined, { timeZone });
      valid = timeZone.trim() !== '';
    } catch {
      valid = false;
    }
    if (timeZoneValidity.size < 1000) timeZoneValidity.set(timeZone, valid);
  }
  return valid;
}
const timeZoneValidity = new Map<string, boolean>();

export const CustomerSchema = z
  .string({ error: expected('a customer name') })
  .refine((s) => s.trim().length > 0, { error: 'customer must not be empty' });

export const AccountStateSchema = z.enum(ACCOUNT_STATES, { error: expected(oneOf(ACCOUNT_STATES)) });

export const RegionsSchema = z
  .array(RegionSchema, { error: expected('a list of AWS regions like [eu-west-1]') })
  .min(1, { error: 'list at least one region' })
  .refine((regions) => new Set(regions).size === regions.length, { error: 'a region is listed twice' });

export const RoleNameSchema = z
  .string({ error: expected('an IAM role name') })
  .regex(IAM_ROLE_NAME_PATTERN, { error: expected('an IAM role name (1-64 of letters, digits, +=,.@_-)') });

export const RoleArnSchema = z
  .string({ error: expected('a role ARN') })
  .regex(ROLE_ARN_PATTERN, { error: expected('a role ARN like arn:aws:iam::123456789012:role/FleetOpsExecutionRole') });

export const ExternalIdRefSchema = z.string({ error: expected('a Vault KV v2 path') }).regex(KV2_PATH_PATTERN, {
  error: expected('a Vault KV v2 path like secret/data/fleetops/external-ids/123456789012'),
});

export const StackNameSchema = z.string({ error: expected('a CloudFormation stack name') }).regex(STACK_NAME_PATTERN, {
  error: expected('a CloudFormation stack name (letter first, then letters, digits, -)'),
});

/** An account's pipeline; per account every field may be left to `defaults.pipeline`. */
export const PipelinePartialSchema = z.strictObject(
  { stackName: StackNameSchema.optional(), version: SemverSchema.optional() },
  { error: expected('a mapping { stackName, version }') },
);

const DURATION = 'a whole number of minutes from 1 to 10080 (one week)';

export const MaintenanceWindowSchema = z.strictObject(
  {
    days: z
      .array(z.enum(WEEKDAYS, { error: expected(`a day (${oneOf(WEEKDAYS)})`) }), {
        error: expected('a list of days like [tue, wed]'),
      })
      .min(1, { error: 'list at least one day' })
      .refine((days) => new Set(days).size === days.length, { error: 'a day is listed twice' }),
    start: z
      .string({ error: expected('a quoted 24h time "HH:MM"') })
      .regex(HHMM_PATTERN, { error: expected('a 24h time "HH:MM" like "02:00"') }),
    durationMinutes: z
      .number({ error: expected(DURATION) })
      .int({ error: expected(DURATION) })
      .min(1, { error: expected(DURATION) })
      .max(10080, { error: expected(DURATION) }),
    timezone: z
      .string({ error: expected('an IANA time zone like Europe/London') })
      .refine(isValidTimeZone, { error: expected('an IANA time zone like Europe/London') }),
  },
  { error: expected('a mapping { days, start, durationMinutes, timezone }') },
);
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

export const TagsSchema = z
  .record(z.string(), z.string({ error: expected('a string tag value (quote numbers and booleans)') }), {
    error: expected('a mapping of tag names to values'),
  })
  .refine((tags) => !Object.keys(tags).some((key) => key.trim() === ''), { error: 'a tag name is empty' });

// ---------------------------------------------------------------------------------------------
// Secrets: `defaults.secrets` and per-account `secrets`, a map from logical name to one entry.

export const SECRET_KINDS = ['secretsmanager', 'iam-access-key', 'external-id'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export const SECRET_ALPHABETS = ['alphanumeric', 'hex', 'base64url', 'printable'] as const;
export type SecretAlphabet = (typeof SECRET_ALPHABETS)[number];

/** Longest grace / delete delay accepted: 90 days (a bigger number is almost surely milliseconds). */
export const MAX_SECRET_DELAY_SECONDS = 90 * 86_400;

const SECONDS = `a whole number of seconds from 0 to ${MAX_SECRET_DELAY_SECONDS} (90 days)`;
const secondsSchema = () =>
  z
    .number({ error: expected(SECONDS) })
    .int({ error: expected(SECONDS) })
    .min(0, { error: expected(SECONDS) })
    .max(MAX_SECRET_DELAY_SECONDS, { error: expected(SECONDS) });

export const SecretsManagerIdSchema = z
  .string({ error: expected('a Secrets Manager secret name') })
  .regex(SECRETS_MANAGER_NAME_PATTERN, {
    error: expected(
      'a Secrets Manager secret name like data-pipeline/collector-api-key (1-512 of letters, digits, /_+=.@-)',
    ),
  });

export const IamUserNameSchema = z
  .string({ error: expected('an IAM user name') })
  .regex(IAM_USER_NAME_PATTERN, { error: expected('an IAM user name (1-64 of letters, digits, +=,.@_-)') });

const LENGTH = 'a whole number from 16 to 4096';
export const SecretGenerateSchema = z.strictObject(
  {
    length: z
      .number({ error: expected(LENGTH) })
      .int({ error: expected(LENGTH) })
      .min(16, { error: expected(LENGTH) })
      .max(4096, { error: expected(LENGTH) })
      .default(32),
    alphabet: z.enum(SECRET_ALPHABETS, { error: expected(oneOf(SECRET_ALPHABETS)) }).default('alphanumeric'),
  },
  { error: expected('a mapping { length, alphabet }') },
);

/** A value fleetops generates and applies to a Secrets Manager secret in the account. */
export const SecretsManagerSecretSchema = z.strictObject(
  {
    kind: z.literal('secretsmanager'),
    secretId: SecretsManagerIdSchema,
    /** Must be one of the account's regions; default: the account's first region. */
    region: RegionSchema.optional(),
    generate: SecretGenerateSchema.prefault({}),
    /** Consumers' longest cache: the previous value stays valid this long. */
    graceSeconds: secondsSchema().default(3600),
  },
  { error: expected('a secret mapping { kind: secretsmanager, secretId, ... }') },
);

/** The customer's IAM user whose access key the pipeline's loader uses. */
export const IamAccessKeySecretSchema = z.strictObject(
  {
    kind: z.literal('iam-access-key'),
    userName: IamUserNameSchema,
    /** Secrets Manager secret (in the account's first region) the loader reads its key pair from. */
    deliverTo: SecretsManagerIdSchema,
    /** The old key is deactivated this long after the new one is live... */
    graceSeconds: secondsSchema().default(86_400),
    /** ...and deleted this long after (not before graceSeconds). */
    deleteAfterSeconds: secondsSchema().default(604_800),
  },
  { error: expected('a secret mapping { kind: iam-access-key, userName, deliverTo, ... }') },
);

/** fleetops' own ExternalId for the account (its execution role's trust policy + Vault at externalIdRef). */
export const ExternalIdSecretSchema = z.strictObject(
  {
    kind: z.literal('external-id'),
    /**
     * The old ExternalId stays in the trust policy this long after the new one is live (workers still
     * holding it in their cache re-read Vault when AssumeRole is denied), then it is removed.
     */
    graceSeconds: secondsSchema().default(3_600),
  },
  { error: expected('a secret mapping { kind: external-id, graceSeconds? }') },
);

/** Each kind's schema, by kind. */
export const SECRET_KIND_SCHEMAS = {
  secretsmanager: SecretsManagerSecretSchema,
  'iam-access-key': IamAccessKeySecretSchema,
  'external-id': ExternalIdSecretSchema,
} as const;

/**
 * One secret entry, complete (the result of merging a per-account entry over the default of the same
 * name). THE definition: `SecretEntry` is what a file says, `SecretSpec` is it with defaults applied.
 */
export const SecretSchema = z
  .discriminatedUnion('kind', [SecretsManagerSecretSchema, IamAccessKeySecretSchema, ExternalIdSecretSchema], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `expected one of ${SECRET_KINDS.join(', ')}, got ${describeValue(isRecordLike(issue.input) ? issue.input.kind : issue.input)}`
        : expected('a secret mapping { kind, ... }')(issue),
  })
  .superRefine((secret, ctx) => {
    if (secret.kind === 'iam-access-key' && secret.deleteAfterSeconds < secret.graceSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['deleteAfterSeconds'],
        message: deleteBeforeGraceMessage(secret.deleteAfterSeconds, secret.graceSeconds),
      });
    }
  });
/** A secret entry as written (fields with defaults may be absent). */
export type SecretEntry = z.input<typeof SecretSchema>;
/** A secret entry with every default applied, except `region` (resolved per account). */
export type SecretSpec = z.output<typeof SecretSchema>;

export const deleteBeforeGraceMessage = (deleteAfterSeconds: number, graceSeconds: number) =>
  `deleteAfterSeconds (${deleteAfterSeconds}) must be at least graceSeconds (${graceSeconds}): a key is deactivated before it is deleted`;

function isRecordLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// AMI rollouts: where images come from (`defaults.imageAccount`) and which Auto Scaling groups they go
// to (`defaults.autoScalingGroups` and per-account `autoScalingGroups`). Cross-field rules (a group's
// region among the account's, the same group twice, imageAccount's roleName) live in fleet-images.ts.

/** Auto Scaling group name: 1..255 characters, no `:` (AWS's rule; a `:` would read as an ARN). */
export const AUTO_SCALING_GROUP_NAME_PATTERN = /^[^:\s][^:]{0,254}$/;
/** EC2 / Auto Scaling tag key: 1..128 characters, not starting with `aws:` (reserved). */
export const TAG_KEY_PATTERN = /^(?!aws:).{1,128}$/su;
/** Tag value: 0..256 characters. */
export const TAG_VALUE_PATTERN = /^.{0,256}$/su;

export const AutoScalingGroupNameSchema = z
  .string({ error: expected('an Auto Scaling group name') })
  .regex(AUTO_SCALING_GROUP_NAME_PATTERN, {
    error: expected('an Auto Scaling group name like data-pipeline-workers (1-255 characters, no ":")'),
  });

export const GroupTagSchema = z.strictObject(
  {
    key: z
      .string({ error: expected('a tag key like fleetops:pipeline') })
      .regex(TAG_KEY_PATTERN, { error: expected('a tag key (1-128 characters, not starting with aws:)') }),
    value: z
      .string({ error: expected('a tag value (quote numbers and booleans)') })
      .regex(TAG_VALUE_PATTERN, { error: expected('a tag value (0-256 characters)') }),
  },
  { error: expected('a tag mapping { key, value }') },
);

/**
 * One entry of `autoScalingGroups:` — the groups in an account whose launch template moves to the new
 * image: by `name`, or every group carrying the tag `tag: { key, value }` (exactly one of the two); in
 * `region` only, or (no region) in every region of the account.
 */
export const AutoScalingGroupEntrySchema = z
  .strictObject(
    {
      region: RegionSchema.optional(),
      name: AutoScalingGroupNameSchema.optional(),
      tag: GroupTagSchema.optional(),
    },
    { error: expected('a group mapping { name } or { tag: { key, value } }, with an optional region') },
  )
  .superRefine((entry, ctx) => {
    if (entry.name !== undefined && entry.tag !== undefined)
      ctx.addIssue({ code: 'custom', path: ['tag'], message: 'give either name or tag, not both' });
    if (entry.name === undefined && entry.tag === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'required: name (a group name) or tag: { key, value } (every group with that tag)',
      });
  });
export type AutoScalingGroupEntry = z.infer<typeof AutoScalingGroupEntrySchema>;

export const AutoScalingGroupsSchema = z.array(AutoScalingGroupEntrySchema, {
  error: expected('a list of groups like [{ name: data-pipeline-workers }] ([] for none)'),
});

/**
 * `defaults.imageAccount`: the account AMI releases are built in and shared from. fleetops assumes
 * `roleName` there (default: `defaults.roleName`) with the ExternalId at `externalIdRef`, as in any account.
 */
export const ImageAccountSchema = z.strictObject(
  {
    id: AccountIdSchema,
    roleName: RoleNameSchema.optional(),
    externalIdRef: ExternalIdRefSchema,
  },
  { error: expected('a mapping { id, roleName, externalIdRef }') },
);
export type ImageAccountEntry = z.infer<typeof ImageAccountSchema>;

/** An AWS Organizations organization ARN (`arn:aws:organizations::<management account>:organization/o-…`). */
export const ORGANIZATION_ARN_PATTERN = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
/** An organizational unit ARN (`arn:aws:organizations::<management account>:ou/o-…/ou-…`). */
export const ORGANIZATIONAL_UNIT_ARN_PATTERN =
  /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;

/**
 * `defaults.imageSharing`: share release images with one organization or organizational unit instead of
 * account by account (exactly one of the two). AWS allows at most 1,000 account shares per image and
 * region; an organization or OU share is one launch permission that does not count against that limit.
 */
export const ImageSharingSchema = z
  .strictObject(
    {
      organizationArn: z
        .string({ error: expected('an organization ARN') })
        .regex(ORGANIZATION_ARN_PATTERN, {
          error: expected('an organization ARN like arn:aws:organizations::111122223333:organization/o-exampleorgid'),
        })
        .optional(),
      organizationalUnitArn: z
        .string({ error: expected('an organizational unit ARN') })
        .regex(ORGANIZATIONAL_UNIT_ARN_PATTERN, {
          error: expected(
            'an OU ARN like arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-examplerootid-exampleouid',
          ),
        })
        .optional(),
    },
    { error: expected('a mapping { organizationArn } or { organizationalUnitArn }') },
  )
  .superRefine((v, ctx) => {
    if (v.organizationArn !== undefined && v.organizationalUnitArn !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['organizationalUnitArn'],
        message: 'give either organizationArn or organizationalUnitArn, not both',
      });
    if (v.organizationArn === undefined && v.organizationalUnitArn === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['organizationArn'],
        message: 'required: organizationArn or organizationalUnitArn',
      });
  });
export type ImageSharingEntry = z.infer<typeof ImageSharingSchema>;

/** `defaults.imageSharing` resolved: who release images are shared with instead of each account. */
export type ImageSharing = { kind: 'organization' | 'organizational-unit'; arn: string };

/** What fleetops needs to act in an account: AssumeRole into `roleArn` with the ExternalId at `externalIdRef`. */
export type AssumableAccount = { id: string; roleArn: string; externalIdRef: string };

/** The image account resolved: its role ARN is always set. */
export type ImageAccount = AssumableAccount;

/**
 * `secrets:` as zod sees it: names to anything. Entries are checked in fleet-secrets.ts, because a
 * per-account entry is only complete once merged over `defaults.secrets` (and may be `null`).
 */
export const SecretsMapSchema = z.record(z.string(), z.unknown(), {
  error: expected('a mapping of secret names to secret entries'),
});

/**
 * `defaults:` — values used by every account that does not set the field itself. Allowed:
 *  - roleName            (an account's own roleName or roleArn wins)
 *  - regions             (replaced, not merged, by an account's regions)
 *  - pipeline.stackName, pipeline.version   (each replaced by the account's own field)
 *  - tags                (merged: the account's tags are added to / override these per key)
 *  - maintenanceWindow   (replaced by the account's window; `maintenanceWindow: null` opts out)
 *  - secrets             (per name: an account entry without `kind` overrides fields of the default
 *                         entry, one with `kind` replaces it, `null` opts out; see fleet-secrets.ts)
 *  - autoScalingGroups   (replaced, not merged, by an account's list; `[]` = no groups)
 * Per account only: id, customer, ring, roleArn, externalIdRef, state, reason.
 * Defaults only: imageAccount (where AMI releases come from; one per fleet file), imageSharing (an
 * organization or OU to share images with instead of each account).
 */
export const FleetDefaultsSchema = z.strictObject(
  {
    roleName: RoleNameSchema.optional(),
    regions: RegionsSchema.optional(),
    pipeline: PipelinePartialSchema.optional(),
    tags: TagsSchema.optional(),
    maintenanceWindow: MaintenanceWindowSchema.optional(),
    secrets: SecretsMapSchema.optional(),
    autoScalingGroups: AutoScalingGroupsSchema.optional(),
    imageAccount: ImageAccountSchema.optional(),
    imageSharing: ImageSharingSchema.optional(),
  },
  { error: expected('a mapping of default fields') },
);
export type FleetDefaults = z.infer<typeof FleetDefaultsSchema>;

/** One entry of `accounts:` as written in the file (before defaults are applied). */
export const AccountSchema = z.strictObject(
  {
    id: AccountIdSchema,
    customer: CustomerSchema,
    ring: RingSchema,
    regions: RegionsSchema.optional(),
    roleName: RoleNameSchema.optional(),
    roleArn: RoleArnSchema.optional(),
    externalIdRef: ExternalIdRefSchema,
    pipeline: PipelinePartialSchema.optional(),
    /** `null` = this account has no window even if `defaults.maintenanceWindow` is set. */
    maintenanceWindow: MaintenanceWindowSchema.nullable().optional(),
    tags: TagsSchema.optional(),
    /** Per name: overrides of `defaults.secrets` entries, whole entries, or `null` to opt out. */
    secrets: SecretsMapSchema.optional(),
    /** The groups the AMI rollout moves; replaces `defaults.autoScalingGroups` (`[]`: none). */
    autoScalingGroups: AutoScalingGroupsSchema.optional(),
    /** Defaults to `active`. */
    state: AccountStateSchema.optional(),
    /** Required iff state is `quarantined`. */
    reason: z
      .string({ error: expected('a reason (text)') })
      .refine((s) => s.trim().length > 0, { error: 'reason must not be empty' })
      .optional(),
  },
  { error: expected('an account mapping (id, customer, ring, ...)') },
);
export type RawAccount = z.infer<typeof AccountSchema>;

export const FleetFileSchema = z.strictObject(
  {
    defaults: FleetDefaultsSchema.optional(),
    accounts: z
      .array(AccountSchema, { error: expected('a list of accounts') })
      .min(1, { error: 'the fleet has no accounts' }),
  },
  { error: expected('a mapping with accounts: (and optional defaults:)') },
);
export type FleetFile = z.infer<typeof FleetFileSchema>;

/** Field names allowed at each level, for "unknown field" hints. */
export const ACCOUNT_FIELDS = Object.keys(AccountSchema.shape);
export const DEFAULTS_FIELDS = Object.keys(FleetDefaultsSchema.shape);
export const FLEET_FILE_FIELDS = Object.keys(FleetFileSchema.shape);
export const PIPELINE_FIELDS = Object.keys(PipelinePartialSchema.shape);
export const MAINTENANCE_WINDOW_FIELDS = Object.keys(MaintenanceWindowSchema.shape);
export const SECRET_GENERATE_FIELDS = Object.keys(SecretGenerateSchema.shape);
export const AUTO_SCALING_GROUP_FIELDS = ['region', 'name', 'tag'];
export const GROUP_TAG_FIELDS = Object.keys(GroupTagSchema.shape);
export const IMAGE_ACCOUNT_FIELDS = Object.keys(ImageAccountSchema.shape);
export const IMAGE_SHARING_FIELDS = ['organizationArn', 'organizationalUnitArn'];

/** A fleet account with defaults applied: what selection, planning and activities use. */
export type FleetAccount = {
  id: string;
  customer: string;
  ring: Ring;
  regions: string[];
  /** Always set: from roleArn, or `arn:<partition>:iam::<id>:role/<roleName>` (partition from regions). */
  roleArn: string;
  /** Vault KV v2 path of the ExternalId — a reference, never the value. */
  externalIdRef: string;
  pipeline: { stackName: string; version: string };
  maintenanceWindow?: MaintenanceWindow;
  tags: Record<string, string>;
  /**
   * The account's secrets as declared: `defaults.secrets` merged with the account's own entries,
   * opt-outs removed; absent when there are none. `resolveAccountSecrets` applies the defaults.
   */
  secrets?: Record<string, SecretEntry>;
  /**
   * The Auto Scaling groups AMI rollouts move, as declared (the account's list, else
   * `defaults.autoScalingGroups`); absent when neither is set. `resolveAutoScalingGroups` expands regions.
   */
  autoScalingGroups?: AutoScalingGroupEntry[];
  /** Where AMI releases come from (`defaults.imageAccount`), when the file sets it. */
  imageAccount?: ImageAccount;
  /** `defaults.imageSharing`: release images go to this organization / OU, not to each account. */
  imageSharing?: ImageSharing;
  state: AccountState;
  reason?: string;
};
