/**
 * Deterministic CloudFormation names for upgrade campaigns: change-set names and client request
 * tokens derived from campaign id, account, region, attempt and step, so a retried or replayed step
 * sends exactly the same request. Pure (no Node built-ins): safe in workflow code.
 *
 * CloudFormation allows `[a-zA-Z][-a-zA-Z0-9]*`, at most 128 characters, for both.
 */

export const CLOUDFORMATION_NAME_MAX = 128;
const VALID_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/;

/** True when `name` is a valid change-set name / client request token. */
export function isValidCloudFormationName(name: string): boolean {
  return name.length >= 1 && name.length <= CLOUDFORMATION_NAME_MAX && VALID_NAME.test(name);
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** 64-bit FNV-1a of the UTF-16 code units of `text`, as 16 hex digits (stable across runs and machines). */
export function stableHash(text: string): string {
  let h = FNV64_OFFSET;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h = ((h ^ BigInt(unit & 0xff)) * FNV64_PRIME) & MASK64;
    h = ((h ^ BigInt(unit >> 8)) * FNV64_PRIME) & MASK64;
  }
  return h.toString(16).padStart(16, '0');
}

/** Letters, digits and single dashes only, no dash at either end, at most `max` characters. */
export function nameSegment(text: string, max: number): string {
  const cleaned = text.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned.slice(0, max).replace(/-+$/, '');
}

const HASH_CHARS = 12;
const VERSION_MAX = 40;

/**
 * The change set of a campaign moving stacks to `version`:
 * `fleetops-<campaign id, sanitised and trimmed>-<hash of campaign id + version>-v<version>`,
 * e.g. `fleetops-spring-rollout-3f2a9c01b7de-v1-1-0`. The hash keeps two campaign ids that
 * sanitise alike (`a.b` and `a_b`) apart.
 */
export function upgradeChangeSetName(campaignId: string, version: string): string {
  const hash = stableHash(`${campaignId}\n${version}`).slice(0, HASH_CHARS);
  const ver = nameSegment(version, VERSION_MAX);
  const fixed = `fleetops--${hash}-v${ver}`.length;
  const campaign = nameSegment(campaignId, CLOUDFORMATION_NAME_MAX - fixed);
  return campaign ? `fleetops-${campaign}-${hash}-v${ver}` : `fleetops-${hash}-v${ver}`;
}

/** The steps of an upgrade that send a client request token. */
export type TokenStep = 'create' | 'execute' | 'rollback';

/**
 * Client request token of one step of one account-region in one attempt:
 * `fleetops-<step>-<account>-<region>-a<attempt>-<hash>` (the hash covers the campaign id and all
 * the rest). A retried request reuses it; an operator's retry (next attempt) gets a new one.
 */
export function clientRequestToken(
  step: TokenStep,
  campaignId: string,
  accountId: string,
  region: string,
  attempt: number,
): string {
  const hash = stableHash([step, campaignId, accountId, region, String(attempt)].join('\n')).slice(0, HASH_CHARS);
  const where = nameSegment(`${accountId}-${region}`, 60);
  return `fleetops-${step}-${where}-a${attempt}-${hash}`.slice(0, CLOUDFORMATION_NAME_MAX);
}
