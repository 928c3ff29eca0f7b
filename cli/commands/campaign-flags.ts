/**
 * `fleetops campaign start` flags → the fleetCampaign input object. Pure (no I/O): every bad flag is
 * reported, each naming the flag, the value given and the form expected.
 */
import path from 'node:path';
import type { z } from 'zod';
import { RINGS } from '../../fleet/fleet-schema';
import {
  CampaignCommonSchema,
  campaignInputSchema,
  type FleetCampaignInput,
} from '../../workflows/campaign/campaign-input';
import type { OperationFlag } from '../../workflows/operation/operation-definition';
import type { AnyOperation } from '../../workflows/operation/operation-registry';
import { operations } from '../../workflows/operations';
import { selectorFromFlags } from './inventory-flags';

/**
 * Flags as commander hands them over: lists already split on commas, everything else a string. The
 * operations' own flags (`--version`, `--stateful`, …, from the registry) come under their commander
 * attribute names (`version`, `stateful`).
 */
export type CampaignStartFlags = {
  operation: string;
  fleet: string;
  rings?: string[];
  accounts?: string[];
  tag?: string[];
  regions?: string[];
  plan?: boolean;
  maxInFlight?: string;
  concurrencyMode?: string;
  failureBudget?: string;
  onBudget?: string;
  maxWaveSize?: string;
  waveBake?: string;
  leaseWait?: string;
  approveBefore?: string;
  ignoreMaintenanceWindows?: boolean;
  allowDowngrade?: boolean;
  campaignId?: string;
  [operationFlag: string]: string | string[] | boolean | undefined;
};

/** `--health-bake <seconds>` → `--health-bake` */
export const flagName = (f: OperationFlag): string => f.flag.split(/[ =]/)[0];
/** `--health-bake <seconds>` → `healthBake` (commander's attribute name) */
export const flagAttribute = (f: OperationFlag): string =>
  flagName(f)
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** One or more flags were wrong; `problems` has one line per flag. */
export class InvalidCampaignFlags extends Error {
  override readonly name = 'InvalidCampaignFlags';
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `invalid campaign: ${problems[0]}`
        : `invalid campaign, ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (flag: string, raw: string, expected: string): Parsed<never> => ({
  ok: false,
  problem: `${flag} "${raw}": expected ${expected}`,
});

/** `5` → at most 5 failed accounts per wave; `10%` → at most 10% of the wave. */
export function parseFailureBudget(raw: string): Parsed<{ maxFailures: number } | { maxFailurePercent: number }> {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return ok({ maxFailures: Number(s) });
  if (/^\d+(\.\d+)?%$/.test(s)) return ok({ maxFailurePercent: Number(s.slice(0, -1)) });
  return bad('--failure-budget', raw, 'a number of accounts per wave (5) or a percent of the wave (10%)');
}

/** Seconds: `300`, or with a unit: `90s`, `15m`, `2h`, `1d`. */
export function parseSeconds(flag: string, raw: string): Parsed<number> {
  const m = /^(\d+)\s*([smhd]?)$/.exec(raw.trim());
  if (!m) return bad(flag, raw, 'seconds (300) or a duration like 90s, 15m, 2h, 1d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return ok(Number(m[1]) * unit);
}

/** Days: `30` or `30d`. */
export function parseDays(flag: string, raw: string): Parsed<number> {
  const m = /^(\d+)\s*d?$/.exec(raw.trim());
  return m ? ok(Number(m[1])) : bad(flag, raw, 'days (30) or 30d');
}

/** A whole number (range checks are the input schema's). */
export function parseWholeNumber(flag: string, raw: string): Parsed<number> {
  return /^\d+$/.test(raw.trim()) ? ok(Number(raw.trim())) : bad(flag, raw, 'a whole number');
}

/** `50` (every ring) or per ring `canary=2,general=100` (rings not named: one wave for the ring). */
export function parseMaxWaveSize(raw: string): Parsed<number | Partial<Record<(typeof RINGS)[number], number>>> {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return ok(Number(s));
  const perRing: Partial<Record<(typeof RINGS)[number], number>> = {};
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    const ring = RINGS.find((r) => r === m?.[1]);
    if (!m || !ring)
      return bad(
        '--max-wave-size',
        raw,
        `a number (50) or per ring RING=N,… with RING one of ${RINGS.join(', ')} (canary=2,general=100)`,
      );
    perRing[ring] = Number(m[2]);
  }
  return Object.keys(perRing).length
    ? ok(perRing)
    : bad('--max-wave-size', raw, 'a number (50) or per ring canary=2,general=100');
}

/** `all`, or rings whose first wave waits for `campaign approve`: `early,general`. */
export function parseApproveBefore(raw: string): Parsed<'all' | string[]> {
  const s = raw.trim();
  if (s === 'all') return ok('all');
  const rings = s
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const known = (r: string) => (RINGS as readonly string[]).includes(r);
  if (!rings.length || !rings.every(known)) {
    const unknown = rings.filter((r) => !known(r));
    return bad(
      '--approve-before',
      raw,
      `"all" or comma-separated rings from ${RINGS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  }
  return ok(rings);
}

/**
 * Default campaign id: `<operation>-<target>-<yyyymmddHHMM>` (UTC; the target is the operation's first
 * required flag, e.g. an upgrade's version), `-plan` appended in plan mode.
 */
export function defaultCampaignId(operation: string, version: string | undefined, now: Date, plan = false): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-');
  return [safe(operation), ...(version ? [safe(version)] : []), stamp, ...(plan ? ['plan'] : [])].join('-');
}

/** Input schema paths → the flag that sets them (longest prefix wins); operations add their own. */
const COMMON_FLAG_OF_PATH: Array<[string, string]> = [
  ['campaignId', '--campaign-id'],
  ['operation', '--operation'],
  ['fleetFile', '--fleet'],
  ['plan', '--plan'],
  ['maxInFlight', '--max-in-flight'],
  ['concurrencyMode', '--concurrency-mode'],
  ['maxWaveSize', '--max-wave-size'],
  ['failureBudget.onExceeded', '--on-budget'],
  ['failureBudget', '--failure-budget'],
  ['waveBakeSeconds', '--wave-bake'],
  ['leaseWaitSeconds', '--lease-wait'],
  ['approvalBefore', '--approve-before'],
  ['respectMaintenanceWindows', '--ignore-maintenance-windows'],
  ['allowDowngrade', '--allow-downgrade'],
  ['select', '--accounts/--rings/--tag/--regions'],
];

function flagOfPath(): Array<[string, string]> {
  const ofOperations = operations.all().flatMap((op): Array<[string, string]> => {
    const required = op.cliFlags.find((f) => f.required);
    return [
      ...op.cliFlags.map((f): [string, string] => [`${op.paramsField}.${f.param}`, flagName(f)]),
      ...(required ? [[op.paramsField, flagName(required)] as [string, string]] : []),
    ];
  });
  return [...COMMON_FLAG_OF_PATH, ...ofOperations];
}

export function flagOfInputPath(issuePath: readonly PropertyKey[]): string {
  const dotted = issuePath.filter((p) => typeof p === 'string').join('.');
  const hit = flagOfPath()
    .filter(([p]) => dotted === p || dotted.startsWith(`${p}.`))
    .sort((a, b) => b[0].length - a[0].length)[0];
  return hit?.[1] ?? (dotted || 'input');
}

/**
 * Builds the campaign input (only what the flags set; the engine applies its defaults) and the
 * campaign id (= workflow id). Throws InvalidCampaignFlags listing every bad flag.
 */
export function campaignInputFromFlags(
  flags: CampaignStartFlags,
  now = new Date(),
): { campaignId: string; input: FleetCampaignInput } {
  const problems: string[] = [];
  const take = <T>(p: Parsed<T>): T | undefined => {
    if (p.ok) return p.value;
    problems.push(p.problem);
    return undefined;
  };
  /** What the operator typed, per flag, to quote in schema errors. */
  const given: Record<string, string | undefined> = {
    '--campaign-id': flags.campaignId,
    '--operation': flags.operation,
    '--max-in-flight': flags.maxInFlight,
    '--concurrency-mode': flags.concurrencyMode,
    '--failure-budget': flags.failureBudget,
    '--on-budget': flags.onBudget,
    '--max-wave-size': flags.maxWaveSize,
    '--wave-bake': flags.waveBake,
    '--lease-wait': flags.leaseWait,
    '--approve-before': flags.approveBefore,
  };
  for (const op of operations.all()) {
    for (const f of op.cliFlags) given[flagName(f)] = textOf(flags[flagAttribute(f)]);
  }

  let select: FleetCampaignInput['select'];
  try {
    const s = selectorFromFlags({
      accounts: flags.accounts,
      rings: flags.rings,
      tags: flags.tag,
      regions: flags.regions,
    });
    if (Object.keys(s).some((k) => k !== 'includeStates')) select = s;
  } catch (err) {
    problems.push((err as Error).message.replace(/^invalid selection: /, ''));
  }

  const operation = flags.operation.trim();
  const op = operations.has(operation) ? operations.get(operation) : undefined;
  const input: Record<string, unknown> = { operation, fleetFile: path.resolve(flags.fleet) };
  if (op) input[op.paramsField] = operationParams(op, flags, problems);
  problems.push(...flagsOfOtherOperations(op, flags));
  const required = op?.cliFlags.find((f) => f.required);
  const target = required ? textOf(flags[flagAttribute(required)])?.trim() : undefined;
  const campaignId = flags.campaignId ?? defaultCampaignId(operation, target, now, flags.plan);
  input.campaignId = campaignId;
  if (select) input.select = select;
  if (flags.plan) input.plan = true;
  if (flags.maxInFlight !== undefined) input.maxInFlight = take(parseWholeNumber('--max-in-flight', flags.maxInFlight));
  if (flags.concurrencyMode !== undefined) input.concurrencyMode = flags.concurrencyMode.trim();
  if (flags.maxWaveSize !== undefined) input.maxWaveSize = take(parseMaxWaveSize(flags.maxWaveSize));
  if (flags.waveBake !== undefined) input.waveBakeSeconds = take(parseSeconds('--wave-bake', flags.waveBake));
  if (flags.leaseWait !== undefined) input.leaseWaitSeconds = take(parseSeconds('--lease-wait', flags.leaseWait));
  if (flags.approveBefore !== undefined) input.approvalBefore = take(parseApproveBefore(flags.approveBefore));
  if (flags.ignoreMaintenanceWindows) input.respectMaintenanceWindows = false;
  if (flags.allowDowngrade) input.allowDowngrade = true;

  if (flags.failureBudget !== undefined || flags.onBudget !== undefined) {
    // --on-budget alone keeps the default limit (a budget object without a limit would mean "no limit").
    const limit =
      flags.failureBudget !== undefined ? take(parseFailureBudget(flags.failureBudget)) : defaultFailureLimit();
    input.failureBudget = { ...limit, ...(flags.onBudget !== undefined ? { onExceeded: flags.onBudget.trim() } : {}) };
  }

  // The schema checks the rest (ranges, choices); flags already reported above are not reported twice.
  const parsed = campaignInputSchema().safeParse(dropUndefined(input));
  if (!parsed.success) {
    const reported = new Set(problems.map((p) => p.split(/[ :]/)[0]));
    problems.push(...describeIssues(parsed.error.issues, given).filter((p) => !reported.has(p.split(/[ :]/)[0])));
  }
  if (problems.length || !parsed.success) throw new InvalidCampaignFlags([...new Set(problems)]);
  // The resolved input (defaults filled in): the campaign's history records exactly what it runs with.
  return { campaignId, input: parsed.data };
}

/** The operation's parameters from its flags; a missing required flag or a bad value is a problem. */
function operationParams(op: AnyOperation, flags: CampaignStartFlags, problems: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const f of op.cliFlags) {
    const raw = textOf(flags[flagAttribute(f)]);
    if (raw === undefined) {
      if (f.required) {
        const what = f.description.replace(new RegExp(`^${op.name}: `), '');
        problems.push(`${flagName(f)}: required with --operation ${op.name} (${what})`);
      }
      continue;
    }
    const parsed =
      f.kind === 'seconds'
        ? parseSeconds(flagName(f), raw)
        : f.kind === 'number'
          ? parseWholeNumber(flagName(f), raw)
          : f.kind === 'days'
            ? parseDays(flagName(f), raw)
            : ok(raw.trim());
    if (parsed.ok) params[f.param] = parsed.value;
    else problems.push(parsed.problem);
  }
  return params;
}

/** Flags given that belong only to operations other than the chosen one. */
function flagsOfOtherOperations(op: AnyOperation | undefined, flags: CampaignStartFlags): string[] {
  const mine = new Set((op?.cliFlags ?? []).map(flagName));
  const owners = new Map<string, string[]>();
  for (const other of operations.all()) {
    if (other === op) continue;
    for (const f of other.cliFlags) {
      if (mine.has(flagName(f)) || textOf(flags[flagAttribute(f)]) === undefined) continue;
      owners.set(flagName(f), [...(owners.get(flagName(f)) ?? []), other.name]);
    }
  }
  return [...owners].map(([flag, ops]) => `${flag}: applies to --operation ${ops.join(' or ')}`);
}

function textOf(v: string | string[] | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [
        k,
        v && typeof v === 'object' && !Array.isArray(v) ? dropUndefined(v as Record<string, unknown>) : v,
      ]),
  );
}

function describeIssues(issues: readonly z.core.$ZodIssue[], given: Record<string, string | undefined>): string[] {
  return issues.map((issue) => {
    const flag = flagOfInputPath(issue.path);
    const raw = given[flag];
    return `${flag}${raw !== undefined ? ` "${raw}"` : ''}: ${issue.message}`;
  });
}

/** The engine's default failure limit (from the input schema, so the two cannot drift apart). */
function defaultFailureLimit(): { maxFailures?: number; maxFailurePercent?: number } {
  const parsed = CampaignCommonSchema.safeParse({ operation: 'any', fleetFile: 'x' });
  if (!parsed.success) return { maxFailurePercent: 10 };
  const { maxFailures, maxFailurePercent } = parsed.data.failureBudget;
  return {
    ...(maxFailures !== undefined ? { maxFailures } : {}),
    ...(maxFailurePercent !== undefined ? { maxFailurePercent } : {}),
  };
}
