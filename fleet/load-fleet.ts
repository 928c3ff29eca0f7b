/**
 * Reading and writing fleet YAML files. The only fleet/ file with I/O (`node:fs`) and `yaml`;
 * NOT for workflow code — workflows get accounts from activities.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { Document, LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml';
import { partitionOfRegion } from './aws-regions';
import { InvalidFleetFile, type FleetProblem } from './fleet-problems';
import type { FleetAccount, FleetDefaults, MaintenanceWindow, SecretEntry } from './fleet-schema';
import { validateFleet, type FleetValidationResult } from './validate-fleet';

export { InvalidFleetFile } from './fleet-problems';

/** `validateFleet`'s result plus the file name problems refer to. */
export type FleetParseResult = FleetValidationResult & { fileName: string };

/** The fleet file could not be read (missing, a directory, no permission...). */
export class UnreadableFleetFile extends Error {
  override readonly name = 'UnreadableFleetFile';
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      code === 'ENOENT'
        ? `fleet file not found: ${file}`
        : code === 'EISDIR'
          ? `fleet file is a directory, not a file: ${file}`
          : `cannot read fleet file ${file}: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}`,
      options,
    );
  }
}

function unreadable(file: string, cause: unknown): UnreadableFleetFile {
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  return new UnreadableFleetFile(file, code, { cause });
}

/** Parses and validates fleet YAML; every problem carries its YAML line. Syntax errors are problems too. */
export function parseFleetYaml(text: string, fileName: string): FleetParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false });

  if (doc.errors.length > 0) {
    const problems: FleetProblem[] = doc.errors.map((error) => {
      const line = error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line;
      return { path: '', line, message: `YAML syntax error: ${error.message.split('\n')[0]}` };
    });
    return { ok: false, problems, fileName };
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return {
      ok: false,
      problems: [{ path: '', message: `YAML error: ${error instanceof Error ? error.message : String(error)}` }],
      fileName,
    };
  }
  const lineOf = (path: (string | number)[]) => lineOfPath(doc, lineCounter, path);
  return { ...validateFleet(raw, { lineOf }), fileName };
}

/** 1-based line of the key (for a map entry) or item (for a list entry) at `path`; the nearest existing ancestor otherwise. */
function lineOfPath(doc: Document, lineCounter: LineCounter, path: (string | number)[]): number | undefined {
  const lineAt = (node: unknown) => (isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined);
  let node: unknown = doc.contents;
  let line = lineAt(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
      if (!pair) break;
      line = lineAt(pair.key) ?? lineAt(pair.value) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      line = lineAt(item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

export type FleetReadOptions = {
  /**
   * Read only a regular file, never through a symlink as the last component (O_NOFOLLOW; O_NONBLOCK so
   * a FIFO cannot block; checked with fstat on the open file). Workers pass an already resolved real path.
   */
  regularFileOnly?: boolean;
};

/** Reads and parses a fleet file; throws UnreadableFleetFile when it cannot be read. */
export function readFleetFile(path: string, options: FleetReadOptions = {}): FleetParseResult {
  let text: string;
  try {
    text = options.regularFileOnly ? readRegularFile(path) : readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseFleetYaml(text, path);
}

function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  try {
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Loads a fleet file: the resolved accounts, or throws InvalidFleetFile / UnreadableFleetFile. */
export function loadFleetFile(path: string): FleetAccount[] {
  const result = readFleetFile(path);
  if (!result.ok) throw new InvalidFleetFile(path, result.problems);
  return result.accounts;
}

// ---------------------------------------------------------------------------------------------
// Cached loading (workers call this per activity).

export type LoadedFleet = {
  readonly path: string;
  /** Deep-frozen: shared between callers. */
  readonly accounts: readonly FleetAccount[];
  readonly byId: ReadonlyMap<string, FleetAccount>;
  readonly mtimeMs: number;
  readonly size: number;
};

type CacheEntry = { mtimeMs: number; size: number; fleet?: LoadedFleet; error?: InvalidFleetFile };
const fleetCache = new Map<string, CacheEntry>();

/**
 * Like loadFleetFile, cached by path + mtimeMs + size: a repeated call costs one `stat`. An invalid
 * file is cached too (the same InvalidFleetFile is thrown until the file changes).
 */
export function loadFleetFileCached(path: string, options: FleetReadOptions = {}): LoadedFleet {
  let stat;
  try {
    stat = options.regularFileOnly ? lstatSync(path) : statSync(path);
  } catch (error) {
    fleetCache.delete(path);
    throw unreadable(path, error);
  }
  const hit = fleetCache.get(path);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) {
    if (hit.error) throw hit.error;
    if (hit.fleet) return hit.fleet;
  }
  const entry: CacheEntry = { mtimeMs: stat.mtimeMs, size: stat.size };
  const result = readFleetFile(path, options);
  if (!result.ok) {
    entry.error = new InvalidFleetFile(path, result.problems);
    fleetCache.set(path, entry);
    throw entry.error;
  }
  const accounts = result.accounts.map(deepFreeze);
  entry.fleet = Object.freeze({
    path,
    accounts: Object.freeze(accounts),
    byId: new Map(accounts.map((account) => [account.id, account])),
    mtimeMs: stat.mtimeMs,
    size: stat.size,
  });
  fleetCache.set(path, entry);
  return entry.fleet;
}

/** Forgets cached fleets (tests). */
export function clearFleetFileCache(): void {
  fleetCache.clear();
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Writing.

/**
 * Writes accounts as a fleet file. Without `defaults`, the most common role name, regions, pipeline
 * stack name / version and maintenance window, and the tags every account has, go to `defaults:`
 * and are left out of the accounts that share them, so 4,000 accounts stay compact. With
 * `defaults`, those are used (an account without a window then gets `maintenanceWindow: null`).
 * parseFleetYaml(stringifyFleet(a)) gives `a` back.
 */
export function stringifyFleet(accounts: readonly FleetAccount[], defaults?: FleetDefaults): string {
  const d = defaults ?? inferDefaults(accounts);
  const body: Record<string, unknown> = {};
  if (Object.keys(d).length > 0) body.defaults = d;
  body.accounts = accounts.map((account) => accountEntry(account, d));

  const doc = new Document(body);
  // Block style for the file, accounts and defaults; flow style ({ }, [ ]) for values inside them.
  const flowInside = (node: unknown) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const value = pair.value;
      if (isMap(value) || isSeq(value)) value.flow = true;
    }
  };
  const root = doc.contents;
  if (isMap(root)) {
    const defaultsNode = root.get('defaults', true);
    flowInside(defaultsNode);
    // defaults.secrets: one line per secret.
    const secretsNode = isMap(defaultsNode) ? defaultsNode.get('secrets', true) : undefined;
    if (isMap(secretsNode)) {
      secretsNode.flow = false;
      flowInside(secretsNode);
    }
    const list = root.get('accounts', true);
    if (isSeq(list)) for (const item of list.items) flowInside(item);
  }
  // Quote "HH:MM" so YAML 1.1 readers do not take it for a base-60 number.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'start' && isScalar(pair.value)) pair.value.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Role name when roleArn is exactly what roleName would produce for this account; otherwise undefined. */
function derivableRoleName(account: FleetAccount): string | undefined {
  const partition = partitionOfRegion(account.regions[0]) ?? 'aws';
  const prefix = `arn:${partition}:iam::${account.id}:role/`;
  if (!account.roleArn.startsWith(prefix)) return undefined;
  const name = account.roleArn.slice(prefix.length);
  return name.includes('/') ? undefined : name;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The most frequent value (first seen wins a tie), if it occurs at least twice; `undefined` competes too. */
function mostCommon<T>(
  accounts: readonly FleetAccount[],
  pick: (account: FleetAccount) => T | undefined,
): T | undefined {
  const counts = new Map<string, { value: T | undefined; count: number }>();
  let best: { value: T | undefined; count: number } | undefined;
  for (const account of accounts) {
    const value = pick(account);
    const key = value === undefined ? '' : JSON.stringify(value);
    const entry = counts.get(key) ?? { value, count: 0 };
    entry.count++;
    counts.set(key, entry);
    if (!best || entry.count > best.count) best = entry;
  }
  return best && best.count >= 2 ? best.value : undefined;
}

/** Defaults that make the file shortest: the most common value of each field, and the tags every account has. */
function inferDefaults(accounts: readonly FleetAccount[]): FleetDefaults {
  if (accounts.length < 2) {
    const imageAccount = accounts.length === 1 ? imageAccountEntry(accounts) : undefined;
    const imageSharing = accounts.length === 1 ? imageSharingEntry(accounts) : undefined;
    return {
      ...(imageAccount !== undefined ? { imageAccount } : {}),
      ...(imageSharing !== undefined ? { imageSharing } : {}),
    };
  }
  const d: FleetDefaults = {};
  // Accounts whose roleArn is not derivable write roleArn whatever the default, so they do not vote.
  const roleName = mostCommon(
    accounts.filter((a) => derivableRoleName(a) !== undefined),
    derivableRoleName,
  );
  if (roleName !== undefined) d.roleName = roleName;
  const regions = mostCommon(accounts, (a) => a.regions);
  if (regions !== undefined) d.regions = [...regions];
  const stackName = mostCommon(accounts, (a) => a.pipeline.stackName);
  const version = mostCommon(accounts, (a) => a.pipeline.version);
  if (stackName !== undefined || version !== undefined) {
    d.pipeline = {
      ...(stackName !== undefined ? { stackName } : {}),
      ...(version !== undefined ? { version } : {}),
    };
  }
  const tags = Object.fromEntries(
    Object.entries(accounts[0].tags).filter(([key, value]) => accounts.every((a) => a.tags[key] === value)),
  );
  if (Object.keys(tags).length > 0) d.tags = tags;
  const window = mostCommon(accounts, (a) => a.maintenanceWindow);
  if (window !== undefined) d.maintenanceWindow = { ...window, days: [...window.days] };
  // Per secret name, the most common entry (accounts without it vote for none and then write null).
  const secrets: Record<string, SecretEntry> = {};
  for (const name of new Set(accounts.flatMap((a) => Object.keys(a.secrets ?? {})))) {
    const entry = mostCommon(accounts, (a) => a.secrets?.[name]);
    if (entry !== undefined) secrets[name] = copyEntry(entry);
  }
  if (Object.keys(secrets).length > 0) d.secrets = secrets;
  const groups = mostCommon(accounts, (a) => a.autoScalingGroups);
  if (groups !== undefined) d.autoScalingGroups = groups.map((g) => ({ ...g }));
  const imageAccount = imageAccountEntry(accounts);
  if (imageAccount !== undefined) d.imageAccount = imageAccount;
  const imageSharing = imageSharingEntry(accounts);
  if (imageSharing !== undefined) d.imageSharing = imageSharing;
  return d;
}

/** `defaults.imageSharing` from the accounts (one per file: every account must agree). */
function imageSharingEntry(accounts: readonly FleetAccount[]): FleetDefaults['imageSharing'] {
  const sharing = accounts[0].imageSharing;
  if (accounts.some((a) => !same(a.imageSharing, sharing)))
    throw new Error(
      'stringifyFleet: accounts have different imageSharing; a fleet file has one (defaults.imageSharing)',
    );
  if (sharing === undefined) return undefined;
  return sharing.kind === 'organization' ? { organizationArn: sharing.arn } : { organizationalUnitArn: sharing.arn };
}

/** `defaults.imageAccount` from the accounts' image account (one per file: every account must agree). */
function imageAccountEntry(accounts: readonly FleetAccount[]): FleetDefaults['imageAccount'] {
  const image = accounts[0].imageAccount;
  if (accounts.some((a) => !same(a.imageAccount, image)))
    throw new Error(
      'stringifyFleet: accounts have different imageAccounts; a fleet file has one (defaults.imageAccount)',
    );
  if (image === undefined) return undefined;
  return { id: image.id, roleName: image.roleArn.split('/').pop()!, externalIdRef: image.externalIdRef };
}

function accountEntry(account: FleetAccount, d: FleetDefaults): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: account.id, customer: account.customer, ring: account.ring };
  if (!same(account.regions, d.regions)) entry.regions = account.regions;

  const roleName = derivableRoleName(account);
  if (roleName === undefined) entry.roleArn = account.roleArn;
  else if (roleName !== d.roleName) entry.roleName = roleName;

  entry.externalIdRef = account.externalIdRef;
  const pipeline: Record<string, string> = {};
  if (account.pipeline.stackName !== d.pipeline?.stackName) pipeline.stackName = account.pipeline.stackName;
  if (account.pipeline.version !== d.pipeline?.version) pipeline.version = account.pipeline.version;
  if (Object.keys(pipeline).length > 0) entry.pipeline = pipeline;

  const window: MaintenanceWindow | null = account.maintenanceWindow ?? null;
  if (!same(window, d.maintenanceWindow ?? null)) entry.maintenanceWindow = window;

  const tags: Record<string, string> = {};
  for (const key of Object.keys(d.tags ?? {})) {
    if (!(key in account.tags)) {
      throw new Error(
        `stringifyFleet: defaults.tags.${key} would be added to account ${account.id}, which has no such tag`,
      );
    }
  }
  for (const [key, value] of Object.entries(account.tags)) if (d.tags?.[key] !== value) tags[key] = value;
  if (Object.keys(tags).length > 0) entry.tags = tags;

  const secrets = secretEntries(account, d);
  if (Object.keys(secrets).length > 0) entry.secrets = secrets;

  if (!same(account.autoScalingGroups, d.autoScalingGroups))
    entry.autoScalingGroups = (account.autoScalingGroups ?? []).map((g) => ({ ...g }));

  if (account.state !== 'active') entry.state = account.state;
  if (account.reason !== undefined) entry.reason = account.reason;
  return entry;
}

type Rec = Record<string, unknown>;
const isRec = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

function copyEntry(entry: SecretEntry): SecretEntry {
  return entry.kind === 'secretsmanager' && entry.generate
    ? { ...entry, generate: { ...entry.generate } }
    : { ...entry };
}

/** Equal as data, whatever the key order. */
function sameData(a: unknown, b: unknown): boolean {
  if (isRec(a) && isRec(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameData(a[k], b[k]));
  }
  return same(a, b);
}

/**
 * An account's `secrets:` against `defaults.secrets`: nothing for an entry equal to the default,
 * the differing fields (no kind) where that overlay gives the entry back, the whole entry (with
 * kind, replacing the default) where it cannot, and null for a default the account does not have.
 */
function secretEntries(account: FleetAccount, d: FleetDefaults): Rec {
  const defaults = isRec(d.secrets) ? d.secrets : {};
  const own = account.secrets ?? {};
  const out: Rec = {};
  for (const name of new Set([...Object.keys(defaults), ...Object.keys(own)])) {
    const entry = own[name];
    const base = defaults[name];
    if (entry === undefined) {
      out[name] = null;
      continue;
    }
    if (sameData(entry, base)) continue;
    out[name] = (isRec(base) ? overlayDiff(base, entry) : undefined) ?? copyEntry(entry);
  }
  return out;
}

/** The fields that turn `base` into `entry` when laid over it (generate per field), or undefined if none do. */
function overlayDiff(base: Rec, entry: SecretEntry): Rec | undefined {
  const target: Rec = { ...entry };
  if (base.kind !== target.kind) return undefined;
  if (Object.keys(base).some((key) => !(key in target))) return undefined;
  const diff: Rec = {};
  for (const [key, value] of Object.entries(target)) {
    if (sameData(value, base[key])) continue;
    const baseGenerate = base.generate;
    if (key === 'generate' && isRec(value) && isRec(baseGenerate)) {
      if (Object.keys(baseGenerate).some((k) => !(k in value))) return undefined;
      diff.generate = Object.fromEntries(Object.entries(value).filter(([k, v]) => !sameData(v, baseGenerate[k])));
    } else {
      diff[key] = value;
    }
  }
  return diff;
}
