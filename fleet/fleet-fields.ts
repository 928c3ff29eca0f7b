/**
 * The fleet file's field-level building blocks that workflow code also validates with: account ids,
 * rings, regions, versions, secret names, their patterns and the "expected …, got …" messages.
 * Kept apart from fleet-schema.ts (the whole file contract) because every workflow run evaluates the
 * modules its bundle imports (the SDK isolates each run): building the whole fleet schema was about a
 * third of a workflow's start-up cost. fleet-schema.ts re-exports all of it.
 */
import { z } from 'zod';
import { isAwsRegion } from './aws-regions';

export const RINGS = ['canary', 'early', 'general', 'late'] as const;
export type Ring = (typeof RINGS)[number];

export const ACCOUNT_STATES = ['active', 'paused', 'quarantined'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** IAM role name: 1..64 of letters, digits and `+=,.@_-`. */
export const IAM_ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** `arn:<partition>:iam::<12 digits>:role/<optional/path/><name>`; group 1 partition, 2 account id. */
export const ROLE_ARN_PATTERN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** Vault KV v2 path: `<mount>/data/<path>` (mount and path may have several segments). */
export const KV2_PATH_PATTERN = /^[\w.-]+(?:\/[\w.-]+)*\/data\/[\w.-]+(?:\/[\w.-]+)*$/;
/** Semantic Versioning 2.0.0 (the regex from semver.org). */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** CloudFormation stack name. */
export const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** 24h `HH:MM`. */
export const HHMM_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** Logical secret name (the key under `secrets:`): kebab-case, 1..64, letter first. */
export const SECRET_NAME_PATTERN = /^(?=.{1,64}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Secrets Manager secret name (not an ARN: the secret lives in the account and region fleetops acts in). */
export const SECRETS_MANAGER_NAME_PATTERN = /^[\w/+=.@-]{1,512}$/;
/** IAM user name: 1..64 of letters, digits and `+=,.@_-`. */
export const IAM_USER_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

/** Short, user-facing rendering of a value found in the file, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value (null)';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${String(value)} (a ${typeof value})`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

export type IssueInput = { readonly input?: unknown };

/** zod error function: "required" when absent, else "expected <what>, got <value>". */
export function expected(what: string) {
  return (issue: IssueInput): string =>
    issue.input === undefined ? 'required' : `expected ${what}, got ${describeValue(issue.input)}`;
}

export const oneOf = (values: readonly string[]) => `one of ${values.join(', ')}`;

export const AccountIdSchema = z
  .string({
    error: (issue) => {
      if (typeof issue.input === 'number') {
        const digits = String(issue.input);
        const lost =
          digits.length < 12 ? ` (leading zeros were lost: did you mean "${digits.padStart(12, '0')}"?)` : '';
        return `account id must be a quoted string: write id: "${digits}"${lost}; unquoted, YAML reads a number and drops leading zeros`;
      }
      return expected('a quoted string of 12 digits')(issue);
    },
  })
  .regex(ACCOUNT_ID_PATTERN, { error: expected('12 digits like "123456789012"') });

export const RingSchema = z.enum(RINGS, { error: expected(oneOf(RINGS)) });

export const RegionSchema = z
  .string({ error: expected('an AWS region name like eu-west-1') })
  .refine((name): boolean => isAwsRegion(name), { error: expected('an AWS region name like eu-west-1') });

export const SemverSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? `expected semver like 1.4.2, got ${String(issue.input)} (a number: quote it, and give MAJOR.MINOR.PATCH)`
        : expected('semver like 1.4.2')(issue),
  })
  .regex(SEMVER_PATTERN, { error: expected('semver like 1.4.2') });

export const SecretNameSchema = z
  .string({ error: expected('a secret name') })
  .regex(SECRET_NAME_PATTERN, { error: expected('a kebab-case secret name like collector-api-key (1-64 chars)') });
