/**
 * Drift: what an account runs compared with what the fleet file (and the release file beside it) says
 * it should. Pure comparisons of readings an activity made (imported by the inventory activity, and by
 * the workflow for the summary): no AWS, no clock (callers pass `nowMs`).
 *
 * Kinds:
 *  - `version`:       the pipeline stack in a region runs another version than `pipeline.version`;
 *  - `missing-stack`: the account has no pipeline stack in one of its regions;
 *  - `image`:         a configured Auto Scaling group's launch template version runs another image than
 *                     the newest image release's AMI for that region (what `--image latest` resolves to);
 *  - `secret-age`:    a configured secret's current value is older than the limit (or cannot be found).
 * Items carry metadata only: versions, AMI ids, release names, ages, secret and user names — never a
 * value, an ExternalId or an access key id.
 */

export const DRIFT_KINDS = ['version', 'missing-stack', 'image', 'secret-age'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** One drift found in an account: what should be vs what is (both human-readable). */
export type DriftItem = {
  kind: DriftKind;
  /** The region, when the item is about one (stacks, groups, Secrets Manager secrets). */
  region?: string;
  /** What drifted: the stack, the group, the secret. */
  subject: string;
  expected: string;
  actual: string;
};

/** One account's drift (only accounts with at least one item are listed in a report). */
export type AccountDrift = {
  accountId: string;
  items: DriftItem[];
  /** Items left out beyond MAX_DRIFT_ITEMS_PER_ACCOUNT (the kinds are still counted in `kinds`). */
  omitted?: number;
  /** Every kind found in the account, including omitted items'. */
  kinds: DriftKind[];
};

/** Items kept per account: bounds the report (and workflow history) at any number of groups or secrets. */
export const MAX_DRIFT_ITEMS_PER_ACCOUNT = 20;
/**
 * Drifted accounts listed (with their items) in a report; beyond it they are only counted. Bounds the
 * report and the continue-as-new carry (~300 bytes per listed account) at any fleet size.
 */
export const MAX_DRIFTED_ACCOUNTS_LISTED = 500;
/** The secret age limit when none is given. */
export const DEFAULT_MAX_SECRET_AGE_DAYS = 90;

const DAY_MS = 86_400_000;

/** A pipeline stack as read (the inventory's PipelineStackState, structurally). */
export type StackReading =
  | { region: string; stackName: string; found: true; version: string | null }
  | { region: string; stackName: string; found: false };

/** A configured group as read: the image its launch template version runs, or why there is none. */
export type GroupImageReading = {
  region: string;
  groupName: string;
  imageId?: string;
  problem?: 'no-such-group' | 'no-launch-template' | 'no-image';
};

/** The image releases to compare with: the newest (what `latest` resolves to) and every published one. */
export type ImageReleases = {
  newest: { name: string; builtAt: string; amis: Record<string, string> };
  all: Array<{ name: string; builtAt: string; amis: Record<string, string> }>;
};

/** A configured secret as read: when its current value was made (ISO time), or why that is unknown. */
export type SecretAgeReading = {
  /** The logical name in the fleet file. */
  name: string;
  /** e.g. `secretsmanager data-pipeline/collector-api-key`, `iam-access-key of user loader` — no value, no key id. */
  describe: string;
  region?: string;
  /** What the time is: `AWSCURRENT created`, `active key created`, `rotated`. */
  basis: string;
  madeAt?: string;
  problem?: string;
};

/** `version` / `missing-stack` items: each region's stack against the account's pipeline.version. */
export function versionDrift(expectedVersion: string, stacks: readonly StackReading[]): DriftItem[] {
  return stacks.flatMap((s): DriftItem[] => {
    if (!s.found)
      return [
        { kind: 'missing-stack', region: s.region, subject: s.stackName, expected: expectedVersion, actual: 'missing' },
      ];
    if (s.version === expectedVersion) return [];
    return [
      {
        kind: 'version',
        region: s.region,
        subject: s.stackName,
        expected: expectedVersion,
        actual: s.version ?? 'unknown',
      },
    ];
  });
}

/**
 * `image` items: each group whose image is not the newest release's AMI in its region. No releases →
 * nothing to compare with (no items); a region the newest release has no AMI for is skipped too.
 */
export function imageDrift(
  groups: readonly GroupImageReading[],
  releases: ImageReleases | undefined,
  nowMs: number,
): DriftItem[] {
  if (!releases) return [];
  return groups.flatMap((g): DriftItem[] => {
    const newest = releases.newest.amis[g.region];
    if (newest === undefined) return [];
    const expected = `${newest} (release ${releases.newest.name})`;
    const item = (actual: string): DriftItem[] => [
      { kind: 'image', region: g.region, subject: g.groupName, expected, actual },
    ];
    if (g.problem === 'no-such-group') return item('no such group');
    if (g.problem === 'no-launch-template') return item('no launch template');
    if (!g.imageId) return item('no image in its launch template version');
    if (g.imageId === newest) return [];
    const from = releases.all.find((r) => r.amis[g.region] === g.imageId);
    return item(
      from
        ? `${g.imageId} (release ${from.name}, built ${formatAge(nowMs - Date.parse(from.builtAt))} ago)`
        : `${g.imageId} (not a published release)`,
    );
  });
}

/** `secret-age` items: each secret made more than `maxAgeDays` ago, or whose time cannot be read. */
export function secretAgeDrift(secrets: readonly SecretAgeReading[], maxAgeDays: number, nowMs: number): DriftItem[] {
  const limitMs = maxAgeDays * DAY_MS;
  const expected = `current value made within ${formatAge(limitMs)}`;
  return secrets.flatMap((s): DriftItem[] => {
    const base = {
      kind: 'secret-age' as const,
      ...(s.region ? { region: s.region } : {}),
      subject: `${s.name} (${s.describe})`,
      expected,
    };
    if (s.problem) return [{ ...base, actual: s.problem }];
    const made = s.madeAt ? Date.parse(s.madeAt) : NaN;
    if (Number.isNaN(made)) return [{ ...base, actual: `no ${s.basis} time found` }];
    const age = nowMs - made;
    if (age <= limitMs) return [];
    return [{ ...base, actual: `${s.basis} ${formatAge(age)} ago (${new Date(made).toISOString()})` }];
  });
}

/** The account's drift from all its items (undefined when there is none), bounded to MAX_DRIFT_ITEMS_PER_ACCOUNT. */
export function accountDrift(accountId: string, items: readonly DriftItem[]): AccountDrift | undefined {
  if (items.length === 0) return undefined;
  const kinds = DRIFT_KINDS.filter((k) => items.some((i) => i.kind === k));
  const kept = items.slice(0, MAX_DRIFT_ITEMS_PER_ACCOUNT);
  return {
    accountId,
    items: kept,
    ...(items.length > kept.length ? { omitted: items.length - kept.length } : {}),
    kinds,
  };
}

/** How many accounts drifted, and per kind how many accounts have it. */
export type DriftCounts = { driftedAccounts: number; byKind: Record<DriftKind, number> };

export function emptyDriftCounts(): DriftCounts {
  return {
    driftedAccounts: 0,
    byKind: Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>,
  };
}

/** `counts` with one more drifted account (a new object). */
export function countDrift(counts: DriftCounts, drift: AccountDrift): DriftCounts {
  const byKind = { ...counts.byKind };
  for (const k of drift.kinds) byKind[k] = (byKind[k] ?? 0) + 1;
  return { driftedAccounts: counts.driftedAccounts + 1, byKind };
}

/** The counts of these drifted accounts. */
export function summarizeDrift(drifted: readonly AccountDrift[]): DriftCounts {
  return drifted.reduce(countDrift, emptyDriftCounts());
}

/** An age for people: `45 s`, `12 min`, `5.5 h`, `120.3 d`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
