/**
 * Secrets in the fleet file: checking `defaults.secrets` and each account's `secrets` (every
 * problem, at the field where it was written), merging an account's entries over the defaults, and
 * resolving an account's effective secrets. Pure: imported by workflow code.
 *
 * Per name, an account entry
 *  - without `kind` overrides fields of the default entry of the same name (`generate` per field);
 *  - with `kind` is a whole entry and replaces the default entry;
 *  - `null` opts the account out of the default entry.
 * A default entry needs `kind`; it may leave required fields (e.g. `secretId`) to the accounts.
 */
import { z } from 'zod';
import { isAwsRegion } from './aws-regions';
import {
  describeValue,
  SECRET_GENERATE_FIELDS,
  SECRET_KIND_SCHEMAS,
  SECRET_KINDS,
  SECRET_NAME_PATTERN,
  SecretSchema,
  deleteBeforeGraceMessage,
  type FleetAccount,
  type SecretEntry,
  type SecretKind,
  type SecretSpec,
} from './fleet-schema';
import { unknownFieldHint, type FleetPathSegment, type LocatedProblem } from './fleet-problems';

type Rec = Record<string, unknown>;
const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

const isSecretKind = (value: unknown): value is SecretKind =>
  typeof value === 'string' && (SECRET_KINDS as readonly string[]).includes(value);

/** Each kind's schema with every field optional (for entries that are completed by a merge). */
const PARTIAL_SCHEMAS = {
  secretsmanager: SECRET_KIND_SCHEMAS.secretsmanager.partial(),
  'iam-access-key': SECRET_KIND_SCHEMAS['iam-access-key'].partial(),
  'external-id': SECRET_KIND_SCHEMAS['external-id'].partial(),
} as const;

const perKind = <T>(fn: (kind: SecretKind) => T): Record<SecretKind, T> => ({
  secretsmanager: fn('secretsmanager'),
  'iam-access-key': fn('iam-access-key'),
  'external-id': fn('external-id'),
});

const FIELDS = perKind((kind) => Object.keys(SECRET_KIND_SCHEMAS[kind].shape));
/** Fields a complete entry must have (no default, not optional), read off the schema. */
const REQUIRED_FIELDS = perKind((kind) =>
  Object.entries(SECRET_KIND_SCHEMAS[kind].shape)
    .filter(([field, schema]) => field !== 'kind' && !schema.safeParse(undefined).success)
    .map(([field]) => field),
);
/** The schema's defaults of the numeric fields (graceSeconds, deleteAfterSeconds). */
const NUMERIC_DEFAULTS = perKind((kind) => {
  const out: Record<string, number> = {};
  for (const [field, schema] of Object.entries(SECRET_KIND_SCHEMAS[kind].shape)) {
    const parsed = schema.safeParse(undefined);
    if (parsed.success && typeof parsed.data === 'number') out[field] = parsed.data;
  }
  return out;
});

const KIND_LIST = SECRET_KINDS.join(', ');
const badNameMessage = (name: string) =>
  `secret name must be kebab-case like collector-api-key (1-64 of a-z, 0-9, single -), got ${describeValue(name)}`;

// ---------------------------------------------------------------------------------------------
// Checks

/** Problems in `defaults.secrets` (each entry on its own: kind, field values, unknown fields). */
export function defaultSecretProblems(secrets: unknown): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  if (!isRecord(secrets)) return out; // not a mapping: reported by the file schema
  const at = (...rest: FleetPathSegment[]): FleetPathSegment[] => ['defaults', 'secrets', ...rest];
  for (const [name, entry] of Object.entries(secrets)) {
    if (!SECRET_NAME_PATTERN.test(name)) out.push({ path: at(name), message: badNameMessage(name) });
    if (entry === null) {
      out.push({ path: at(name), message: 'null only opts an account out of a default; here, remove the entry' });
      continue;
    }
    if (!isRecord(entry)) {
      out.push({ path: at(name), message: `expected a secret mapping { kind, ... }, got ${describeValue(entry)}` });
      continue;
    }
    if (entry.kind === undefined) {
      out.push({ path: at(name, 'kind'), message: `required: one of ${KIND_LIST}` });
      continue;
    }
    if (!isSecretKind(entry.kind)) {
      out.push({ path: at(name, 'kind'), message: `expected one of ${KIND_LIST}, got ${describeValue(entry.kind)}` });
      continue;
    }
    out.push(...fieldProblems(entry.kind, entry, at(name)));
    const order = deleteOrderProblem(entry.kind, entry, entry);
    if (order) out.push({ path: at(name, order.field), message: order.message });
  }
  return out;
}

/**
 * Problems in one account's secrets once merged over `defaults.secrets`: its own entries' fields,
 * required fields missing after the merge, `region` not among the account's regions, delete before
 * grace. Problems that lie wholly in a default entry are left to defaultSecretProblems (reported once).
 */
export function accountSecretProblems(
  account: Rec,
  index: number,
  defaultSecrets: unknown,
  defaultRegions: unknown,
): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  const at = (...rest: FleetPathSegment[]): FleetPathSegment[] => ['accounts', index, 'secrets', ...rest];
  const own = isRecord(account.secrets) ? account.secrets : {};
  const defaults = isRecord(defaultSecrets) ? defaultSecrets : {};
  const regions = account.regions !== undefined ? account.regions : defaultRegions;

  for (const name of Object.keys(own)) {
    if (!SECRET_NAME_PATTERN.test(name)) out.push({ path: at(name), message: badNameMessage(name) });
  }
  const names = new Set([...Object.keys(defaults), ...Object.keys(own)].filter((n) => SECRET_NAME_PATTERN.test(n)));
  for (const name of names) {
    const mine = own[name];
    const base = defaults[name];
    if (mine === null) {
      if (base === undefined) {
        out.push({
          path: at(name),
          message: `null opts out of defaults.secrets.${name}, but there is no such default`,
        });
      }
      continue;
    }
    if (mine !== undefined && !isRecord(mine)) {
      out.push({
        path: at(name),
        message: `expected a secret mapping (or null to opt out), got ${describeValue(mine)}`,
      });
      continue;
    }
    let merged: Rec;
    const replaces = mine !== undefined && mine.kind !== undefined;
    if (mine === undefined) {
      if (!isRecord(base)) continue; // a bad default: reported at defaults
      merged = base;
    } else if (replaces) {
      merged = mine;
    } else if (base === undefined) {
      out.push({
        path: at(name, 'kind'),
        message: `required: there is no defaults.secrets.${name} to override, so give kind (${KIND_LIST})`,
      });
      continue;
    } else if (!isRecord(base)) {
      continue;
    } else {
      merged = overlay(base, mine);
    }

    const kind = merged.kind;
    if (!isSecretKind(kind)) {
      if (replaces)
        out.push({ path: at(name, 'kind'), message: `expected one of ${KIND_LIST}, got ${describeValue(kind)}` });
      continue; // otherwise the default's kind is wrong: reported at defaults
    }
    if (mine !== undefined) out.push(...fieldProblems(kind, mine, at(name)));

    for (const field of REQUIRED_FIELDS[kind]) {
      if (merged[field] !== undefined) continue;
      const message =
        replaces || base === undefined ? 'required' : `required (here or in defaults.secrets.${name}.${field})`;
      out.push({ path: at(name, field), message });
    }

    if (
      'region' in SECRET_KIND_SCHEMAS[kind].shape &&
      typeof merged.region === 'string' &&
      isAwsRegion(merged.region)
    ) {
      const list = Array.isArray(regions) ? regions.filter((r): r is string => typeof r === 'string') : [];
      if (list.length > 0 && !list.includes(merged.region)) {
        const from = mine?.region === undefined ? ` (from defaults.secrets.${name}.region)` : '';
        out.push({
          path: at(name, 'region'),
          message: `region ${merged.region}${from} is not one of the account's regions (${list.join(', ')})`,
        });
      }
    }

    if (mine !== undefined) {
      const order = deleteOrderProblem(kind, merged, mine);
      if (order) out.push({ path: at(name, order.field), message: order.message });
    }
  }
  return out;
}

/** Field values and unknown fields of one entry (any field may be absent). */
function fieldProblems(kind: SecretKind, entry: Rec, at: FleetPathSegment[]): LocatedProblem[] {
  const parsed = PARTIAL_SCHEMAS[kind].safeParse(entry);
  if (parsed.success) return [];
  const out: LocatedProblem[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const inGenerate = path[path.length - 1] === 'generate';
      const known = inGenerate ? SECRET_GENERATE_FIELDS : FIELDS[kind];
      const of = inGenerate ? 'generate' : `kind ${kind}`;
      for (const key of issue.keys) {
        out.push({
          path: [...at, ...path, key],
          message: `unknown field "${key}" for ${of} (${unknownFieldHint(known, key)})`,
        });
      }
    } else {
      out.push({ path: [...at, ...path], message: issue.message });
    }
  }
  return out;
}

/**
 * deleteAfterSeconds < graceSeconds after the merge, reported at the field `own` sets (deleteAfterSeconds
 * first); nothing when `own` sets neither (then both come from a default, checked there).
 */
function deleteOrderProblem(
  kind: SecretKind,
  merged: Rec,
  own: Rec,
): { field: 'deleteAfterSeconds' | 'graceSeconds'; message: string } | undefined {
  if (kind !== 'iam-access-key') return undefined;
  if (own.deleteAfterSeconds === undefined && own.graceSeconds === undefined) return undefined;
  const grace = merged.graceSeconds ?? NUMERIC_DEFAULTS[kind].graceSeconds;
  const deleteAfter = merged.deleteAfterSeconds ?? NUMERIC_DEFAULTS[kind].deleteAfterSeconds;
  if (!Number.isInteger(grace) || !Number.isInteger(deleteAfter)) return undefined; // reported as a bad value
  if ((deleteAfter as number) >= (grace as number)) return undefined;
  return {
    field: own.deleteAfterSeconds !== undefined ? 'deleteAfterSeconds' : 'graceSeconds',
    message: deleteBeforeGraceMessage(deleteAfter as number, grace as number),
  };
}

/** `own` over `base`, field by field (and `generate` per field); new objects throughout. */
function overlay(base: Rec, own: Rec): Rec {
  const merged: Rec = { ...base, ...own };
  if (isRecord(base.generate) && isRecord(own.generate)) merged.generate = { ...base.generate, ...own.generate };
  else if (isRecord(merged.generate)) merged.generate = { ...merged.generate };
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Merging and resolution

/** Narrows an entry already checked against SecretSchema. */
const isSecretEntry = (value: unknown): value is SecretEntry => isRecord(value) && isSecretKind(value.kind);
const validDefaults = new WeakMap<Rec, boolean>();
function isValidDefault(entry: Rec): boolean {
  let valid = validDefaults.get(entry);
  if (valid === undefined) validDefaults.set(entry, (valid = SecretSchema.safeParse(entry).success));
  return valid;
}

/**
 * An account's declared secrets: its own entries merged over `defaults.secrets`, opt-outs removed;
 * undefined when none are left. Only for data that passed the checks above.
 */
export function mergeAccountSecrets(
  defaultSecrets: unknown,
  ownSecrets: unknown,
): Record<string, SecretEntry> | undefined {
  const defaults = isRecord(defaultSecrets) ? defaultSecrets : {};
  const own = isRecord(ownSecrets) ? ownSecrets : {};
  const out: Record<string, SecretEntry> = {};
  for (const name of new Set([...Object.keys(defaults), ...Object.keys(own)])) {
    const mine = own[name];
    const base = defaults[name];
    if (mine === null) continue;
    let merged: unknown;
    if (isRecord(mine)) merged = mine.kind !== undefined || !isRecord(base) ? overlay({}, mine) : overlay(base, mine);
    else if (isRecord(base)) merged = overlay({}, base);
    if (merged === undefined) continue;
    // An entry taken whole from the defaults is checked once per file, not once per account.
    const valid = mine === undefined && isRecord(base) ? isValidDefault(base) : SecretSchema.safeParse(merged).success;
    if (!valid || !isSecretEntry(merged)) throw new Error(`internal: secret ${name} invalid after validation`);
    out[name] = merged;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

type SpecOf<K extends SecretKind> = Extract<SecretSpec, { kind: K }>;
/** A secret with every default applied, for one account. */
export type ResolvedSecret =
  | (SpecOf<'secretsmanager'> & { name: string; region: string })
  /** `region`: where the `deliverTo` secret lives (the account's first region). */
  | (SpecOf<'iam-access-key'> & { name: string; region: string })
  | (SpecOf<'external-id'> & { name: string });

/**
 * The account's effective secrets, by name, with defaults applied: `region` (the account's first
 * region), `generate` (length 32, alphanumeric), `graceSeconds` (3600 / 86400),
 * `deleteAfterSeconds` (604800). Throws on an entry the schema refuses (hand-built accounts).
 */
export function resolveAccountSecrets(
  account: Pick<FleetAccount, 'id' | 'regions' | 'secrets'>,
): Record<string, ResolvedSecret> {
  const out: Record<string, ResolvedSecret> = {};
  for (const [name, entry] of Object.entries(account.secrets ?? {})) {
    const parsed = SecretSchema.safeParse(entry);
    if (!parsed.success) {
      throw new Error(`account ${account.id} secret ${name}: ${z.prettifyError(parsed.error)}`);
    }
    const spec = parsed.data;
    const firstRegion = account.regions[0];
    switch (spec.kind) {
      case 'secretsmanager':
        out[name] = { ...spec, name, region: spec.region ?? firstRegion };
        break;
      case 'iam-access-key':
        out[name] = { ...spec, name, region: firstRegion };
        break;
      case 'external-id':
        out[name] = { ...spec, name };
        break;
    }
  }
  return out;
}
