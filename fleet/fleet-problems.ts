/** Problems found in a fleet file, and how they are shown to people. Pure. */

export type FleetProblem = {
  /** Index in `accounts:` when the problem is inside an account. */
  accountIndex?: number;
  /** The account's id as written (even an invalid one, or an unquoted number), when it has one. */
  accountId?: string;
  /** Full path, e.g. `accounts[3].pipeline.version`, `defaults.regions[0]`; '' for the whole file. */
  path: string;
  /** 1-based line in the YAML file, when known. */
  line?: number;
  message: string;
};

export type FleetPathSegment = string | number;

/** A problem found while validating, before it gets its account, formatted path and line. */
export type LocatedProblem = { path: FleetPathSegment[]; message: string };

/** `unknown field "x" (did you mean "y"?)`, or the allowed fields when nothing is close. */
export function unknownFieldHint(known: readonly string[], key: string): string {
  const suggestion = known.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
  return suggestion !== undefined ? `did you mean "${suggestion}"?` : `allowed: ${known.join(', ')}`;
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

/** `['accounts', 3, 'pipeline', 'version']` → `accounts[3].pipeline.version`; odd keys as `tags["a.b"]`. */
export function formatFleetPath(path: readonly FleetPathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Where a problem is, without the file: `accounts[3] (id 123456789012) pipeline.version`. */
export function describeFleetProblemLocation(problem: FleetProblem): string {
  if (problem.accountIndex === undefined) return problem.path;
  const prefix = `accounts[${problem.accountIndex}]`;
  let rest = problem.path.startsWith(prefix) ? problem.path.slice(prefix.length) : problem.path;
  if (rest.startsWith('.')) rest = rest.slice(1);
  const id = problem.accountId !== undefined ? ` (id ${problem.accountId})` : '';
  return `${prefix}${id}${rest === '' ? '' : ` ${rest}`}`;
}

/**
 * One line per problem:
 * `fleet.yaml:42 accounts[3] (id 123456789012) pipeline.version: expected semver like 1.4.2, got "1.4"`
 */
export function formatFleetProblems(file: string, problems: readonly FleetProblem[]): string {
  return problems
    .map((problem) => {
      const at = problem.line !== undefined ? `${file}:${problem.line}` : file;
      const where = describeFleetProblemLocation(problem);
      return where === '' ? `${at}: ${problem.message}` : `${at} ${where}: ${problem.message}`;
    })
    .join('\n');
}

/** Thrown by the loader when a fleet file has problems; the message is the formatted list. */
export class InvalidFleetFile extends Error {
  override readonly name = 'InvalidFleetFile';
  constructor(
    readonly file: string,
    readonly problems: readonly FleetProblem[],
  ) {
    super(formatFleetProblems(file, problems));
  }
}
