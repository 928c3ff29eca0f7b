/**
 * `fleetops secret status`: what one account's secrets look like in Vault and in AWS, and the
 * inconsistencies between them, as text or JSON. Pure (no I/O): the command gathers a
 * SecretStatusReport, this file flags and prints it. A report holds version numbers, version ids,
 * stages, key ids and states — never a value.
 */
import type { SecretKind } from '../../fleet/fleet-schema';

export const AWSPENDING_RUNBOOK = 'docs/runbooks/secret-awspending-left-behind.md';
export const EXTERNAL_ID_RUNBOOK = 'docs/runbooks/external-id-lockout.md';

/** One secret's state, as read (no value). */
export type SecretStatus = {
  name: string;
  kind: SecretKind;
  /** Where AWS holds it: the Secrets Manager secret (for `iam-access-key`: the `deliverTo` secret) and region. */
  secretId?: string;
  region?: string;
  /** For `iam-access-key`: the IAM user. */
  userName?: string;
  /** Vault path of the value (metadata only is read) and its current KV version; null: no value there. */
  valueRef: string;
  valueVersion: number | null;
  /** Set when the value's metadata could not be read (e.g. the policy denies it). */
  valueVersionError?: string;
  /** The live record, null when there is none. */
  live: {
    vaultVersion: number;
    rotatedAt: string;
    campaignId: string;
    awsVersionId?: string;
    accessKeyId?: string;
    /** The KV version of the record itself (its rotation history). */
    recordVersion: number;
  } | null;
  /** Secrets Manager: each VersionId and its staging labels (DescribeSecret). */
  awsVersions?: { versionId: string; stages: string[] }[];
  /**
   * `external-id`: the execution role's trust policy — how many ExternalIds it accepts, whether Vault's
   * current one (and a pending one of an unfinished rotation) among them. Ids are compared, never shown.
   */
  trust?: {
    role: string;
    acceptedIds: number;
    acceptsCurrent: boolean;
    pendingInVault: boolean;
    acceptsPending?: boolean;
  };
  /** IAM: the user's access keys (ListAccessKeys). */
  accessKeys?: { accessKeyId: string; status: string; createdAt?: string }[];
  /** AWS could not be read (AssumeRole refused, secret missing…): the classified error. */
  awsError?: string;
};

export type SecretStatusReport = {
  accountId: string;
  fleetFile: string;
  /** When it was read (ISO). */
  readAt: string;
  secrets: SecretStatus[];
};

/** The version holding `stage`, if any. */
export function versionWithStageOf(s: SecretStatus, stage: string): string | undefined {
  return s.awsVersions?.find((v) => v.stages.includes(stage))?.versionId;
}

/** One line per inconsistency between Vault's live record and what AWS holds. */
export function secretStatusProblems(s: SecretStatus): string[] {
  const out: string[] = [];
  if (s.kind === 'external-id') {
    if (!s.live) out.push('no live record in Vault (not seeded or rotated by fleetops)');
    if (s.trust && !s.trust.acceptsCurrent)
      out.push(
        `the trust policy of ${s.trust.role} does not accept Vault's current ExternalId: see ${EXTERNAL_ID_RUNBOOK}`,
      );
    if (s.trust?.pendingInVault)
      out.push(`Vault holds a pending ExternalId of an unfinished rotation: see ${EXTERNAL_ID_RUNBOOK}`);
    return out;
  }
  if (!s.live) out.push('no live record in Vault (not seeded or rotated by fleetops)');
  if (s.awsVersions) {
    const current = versionWithStageOf(s, 'AWSCURRENT');
    if (!current) out.push(`no version of ${s.secretId} is AWSCURRENT`);
    else if (s.live && s.live.awsVersionId !== current)
      out.push(
        `AWSCURRENT is ${current} but the live record names ${s.live.awsVersionId ?? 'no AWS version'} (Vault and AWS disagree)`,
      );
    for (const v of s.awsVersions) {
      if (v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'))
        out.push(`AWSPENDING left behind on version ${v.versionId} (not AWSCURRENT): see ${AWSPENDING_RUNBOOK}`);
    }
  }
  if (s.accessKeys) {
    const active = s.accessKeys.filter((k) => k.status === 'Active');
    if (active.length > 1)
      out.push(
        `${active.length} active access keys for ${s.userName} (${active.map((k) => k.accessKeyId).join(', ')}): at most one is expected outside a rotation's grace`,
      );
    if (s.live?.accessKeyId && !active.some((k) => k.accessKeyId === s.live!.accessKeyId))
      out.push(`the live record's key ${s.live.accessKeyId} is not an active key of ${s.userName}`);
  }
  return out;
}

/** "3d 4h", "2h 5m", "40s": how long ago `iso` was at `now`. */
export function ageOf(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 1000));
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${seconds}s`;
}

/** The JSON form: the report with each secret's age (seconds) and problems. */
export function secretStatusJson(report: SecretStatusReport) {
  const now = new Date(report.readAt);
  return {
    ...report,
    secrets: report.secrets.map((s) => ({
      ...s,
      ageSeconds: s.live ? Math.max(0, Math.floor((now.getTime() - Date.parse(s.live.rotatedAt)) / 1000)) : null,
      problems: secretStatusProblems(s),
    })),
  };
}

/** The text form: a block per secret, each inconsistency on a line of its own starting with ⚠. */
export function formatSecretStatus(report: SecretStatusReport): string {
  const now = new Date(report.readAt);
  const lines = [`account ${report.accountId}  (fleet file ${report.fleetFile})`];
  for (const s of report.secrets) {
    const where =
      s.kind === 'secretsmanager'
        ? `${s.secretId} in ${s.region}`
        : s.kind === 'iam-access-key'
          ? `user ${s.userName}, key pair in ${s.secretId} (${s.region})`
          : 'trust policy ExternalId';
    lines.push('', `${s.name}  [${s.kind}]  ${where}`);
    if (s.live) {
      const aws = [
        s.live.awsVersionId ? `AWS version ${s.live.awsVersionId}` : '',
        s.live.accessKeyId ? `key ${s.live.accessKeyId}` : '',
      ].filter(Boolean);
      lines.push(
        `  live:     Vault v${s.live.vaultVersion}${aws.length ? `, ${aws.join(', ')}` : ''}`,
        `            rotated ${s.live.rotatedAt} (${ageOf(s.live.rotatedAt, now)} ago) by ${s.live.campaignId}`,
      );
    } else lines.push('  live:     no live record');
    if (s.valueVersionError)
      lines.push(`  vault:    value at ${s.valueRef}: version not readable (${s.valueVersionError})`);
    else if (s.valueVersion === null) lines.push(`  vault:    no value at ${s.valueRef}`);
    else {
      const note =
        s.live && s.valueVersion > s.live.vaultVersion
          ? `  (newer than live v${s.live.vaultVersion}: a rotation in progress or rolled back)`
          : '';
      lines.push(`  vault:    value v${s.valueVersion} at ${s.valueRef}${note}`);
    }
    if (s.awsError) lines.push(`  aws:      not readable: ${s.awsError}`);
    if (s.awsVersions) {
      const versions = s.awsVersions.length
        ? s.awsVersions.map((v) => `${v.versionId} [${v.stages.join(', ') || 'no stage'}]`)
        : ['no versions'];
      lines.push(`  aws:      ${versions[0]}`, ...versions.slice(1).map((v) => `            ${v}`));
    }
    if (s.trust) {
      const pending = s.trust.pendingInVault
        ? `; a pending id in Vault, ${s.trust.acceptsPending ? 'accepted' : 'not accepted'}`
        : '';
      lines.push(
        `  trust:    ${s.trust.role} accepts ${s.trust.acceptedIds} ExternalId(s), ${s.trust.acceptsCurrent ? "Vault's current one among them" : "NOT Vault's current one"}${pending}`,
      );
    }
    if (s.accessKeys) {
      const keys = s.accessKeys.length
        ? s.accessKeys.map((k) => `${k.accessKeyId} ${k.status}${k.createdAt ? ` (created ${k.createdAt})` : ''}`)
        : ['no access keys'];
      lines.push(`  iam keys: ${keys[0]}`, ...keys.slice(1).map((k) => `            ${k}`));
    }
    const problems = secretStatusProblems(s);
    for (const p of problems) lines.push(`  ⚠ ${p}`);
    if (!problems.length && !s.awsError) lines.push('  ✔ consistent');
  }
  return `${lines.join('\n')}\n`;
}
