/**
 * The security boundary for fleet files: a workflow input's `fleetFile` is typed by anyone who can
 * start workflows (Temporal UI, API), so workers read a fleet file only from inside the configured
 * fleet locations (FLEETOPS_FLEET_DIRS). Every activity that reads a fleet file goes through
 * `resolveAllowedFleetFile` (via `loadFleetForActivity` / `fleetAccount`). A refusal quotes nothing of
 * any file: nothing was read. Problems of an allowed file are quoted, bounded in size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorType } from '../fleet/error-types';
import { formatFleetProblems, InvalidFleetFile } from '../fleet/fleet-problems';
import type { FleetAccount } from '../fleet/fleet-schema';
import { loadFleetFileCached, UnreadableFleetFile, type LoadedFleet } from '../fleet/load-fleet';
import { FleetOpsError } from './aws/errors';

/** What fleet file access needs: the configured fleet locations (absolute directories). */
export type FleetFileDeps = { fleetDirs: readonly string[] };

export const FLEET_FILE_RULE =
  'workers read fleet files only from the configured fleet locations (FLEETOPS_FLEET_DIRS): fleetFile must be an ' +
  'absolute path without ".." naming a regular file inside one of them, and symlinks must not lead out of them';

/** At most this many problems of an invalid fleet file, each cut to MAX_LINE characters, go into a failure. */
const MAX_PROBLEMS = 20;
const MAX_LINE = 300;
const MAX_MESSAGE = 8000;
const MAX_SHOWN_PATH = 200;

/**
 * The guard. Returns the real path (symlinks resolved) of `fleetFile` when it is a regular file inside
 * a configured fleet location; otherwise throws FleetOpsError `FleetFileNotAllowed` (nothing read), or
 * UnreadableFleetFile when it is missing/unreadable *inside* a location (outside, existence is not revealed).
 */
export function resolveAllowedFleetFile(fleetFile: unknown, fleetDirs: readonly string[]): string {
  const refuse = (why: string) =>
    new FleetOpsError(
      ErrorType.FleetFileNotAllowed,
      `fleetFile ${shownPath(fleetFile)} is not allowed: ${why}. Rule: ${FLEET_FILE_RULE}. ` +
        `Fleet locations: ${fleetDirs.length ? fleetDirs.join(', ') : 'none configured'}`,
    );
  if (typeof fleetFile !== 'string' || fleetFile === '') throw refuse('not a path');
  if (fleetFile.includes('\0')) throw refuse('it contains a NUL character');
  if (!path.isAbsolute(fleetFile)) throw refuse('not an absolute path');
  if (fleetFile.split(/[\\/]/).includes('..')) throw refuse('it contains ".."');

  const typed = path.resolve(fleetFile);
  const realDirs = fleetDirs.flatMap((dir) => {
    try {
      return [fs.realpathSync(dir)];
    } catch {
      return []; // a location that does not exist (yet) holds nothing
    }
  });
  // Before touching the filesystem: the path as typed must be inside a location (as configured or as resolved).
  if (![...fleetDirs, ...realDirs].some((dir) => isInside(typed, dir, true)))
    throw refuse('it is outside the fleet locations');

  let real: string;
  try {
    real = fs.realpathSync(typed);
  } catch (err) {
    // Missing or unreadable: say so only if the nearest existing ancestor really is inside a location.
    const ancestor = nearestExistingAncestor(typed);
    if (ancestor !== undefined && realDirs.some((dir) => isInside(ancestor, dir, true)))
      throw new UnreadableFleetFile(typed, errorCode(err), { cause: err });
    throw refuse('it leads (through a symlink) outside the fleet locations');
  }
  if (realDirs.includes(real)) throw refuse('not a regular file');
  if (!realDirs.some((dir) => isInside(real, dir, false)))
    throw refuse('it leads (through a symlink) outside the fleet locations');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(real);
  } catch (err) {
    throw new UnreadableFleetFile(typed, errorCode(err), { cause: err });
  }
  if (!stat.isFile()) throw refuse('not a regular file');
  return real;
}

/**
 * The fleet file named by a workflow (cached per file version), through the guard. Refused →
 * `FleetFileNotAllowed`; invalid or unreadable → `InvalidFleetFile` with at most MAX_PROBLEMS problems.
 */
export function loadFleetForActivity(deps: FleetFileDeps, fleetFile: string): LoadedFleet {
  try {
    return loadFleetFileCached(resolveAllowedFleetFile(fleetFile, deps.fleetDirs), { regularFileOnly: true });
  } catch (err) {
    if (err instanceof FleetOpsError) throw err;
    const message = err instanceof InvalidFleetFile ? boundedProblems(err) : (err as Error).message;
    throw new FleetOpsError(ErrorType.InvalidFleetFile, clip(message, MAX_MESSAGE));
  }
}

/** Finds an account in the fleet file (through the guard, cached per file version) or fails non-retryably. */
export function fleetAccount(deps: FleetFileDeps, fleetFile: string, accountId: string): FleetAccount {
  const account = loadFleetForActivity(deps, fleetFile).byId.get(accountId);
  if (!account)
    throw new FleetOpsError(
      ErrorType.AccountNotInFleet,
      `account ${accountId} is not in fleet file ${shownPath(fleetFile)}`,
      { accountId },
    );
  return account;
}

/** The first MAX_PROBLEMS problems, one line each of at most MAX_LINE characters; `fleetops fleet validate` lists all. */
function boundedProblems(err: InvalidFleetFile): string {
  const lines = err.problems.slice(0, MAX_PROBLEMS).map((p) => clip(formatFleetProblems(err.file, [p]), MAX_LINE));
  const more = err.problems.length - MAX_PROBLEMS;
  if (more > 0) lines.push(`… and ${more} more problems (\`fleetops fleet validate FILE\` lists every one)`);
  return lines.join('\n');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The path as the user typed it (input, not file content), quoted and bounded. */
function shownPath(value: unknown): string {
  return typeof value === 'string' ? clip(JSON.stringify(value), MAX_SHOWN_PATH) : typeof value;
}

/** `p` is `dir` itself (when allowed) or below it. */
function isInside(p: string, dir: string, allowSelf: boolean): boolean {
  const rel = path.relative(dir, p);
  if (rel === '') return allowSelf;
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function nearestExistingAncestor(p: string): string | undefined {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    try {
      return fs.realpathSync(dir);
    } catch {
      if (dir === path.dirname(dir)) return undefined;
    }
  }
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
