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
