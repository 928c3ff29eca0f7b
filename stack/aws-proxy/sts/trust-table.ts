/**
 * ExternalId enforcement for sts:AssumeRole, which moto does not check.
 * A role in the table behaves like a role whose trust policy requires `sts:ExternalId` to equal
 * the stored value; roles not in the table pass (no ExternalId condition).
 * ExternalId values are never logged and never returned by the admin API.
 */
import { timingSafeEqual } from 'node:crypto';
import * as path from 'node:path';
import { z } from 'zod';
import { renderQueryError, type AwsErrorResponse } from '../core/aws-errors';
import { readJsonFile, removeFile, writeJsonFile } from '../core/json-state-file';

export const trustEntrySchema = z
  .object({
    roleArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
        'must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)',
      ),
    externalId: z
      .string()
      .min(2)
      .max(1224)
      .regex(/^[\w+=,.@:/-]+$/, 'may only contain letters, digits and +=,.@:/-_'),
  })
  .strict();

export const trustEntriesSchema = z.object({ entries: z.array(trustEntrySchema) }).strict();

export type TrustEntry = z.infer<typeof trustEntrySchema>;

/** What the admin API may show: role ARNs only. */
export interface TrustSummary {
  count: number;
  roleArns: string[];
}

export function externalIdMatches(expected: string, given: string | null | undefined): boolean {
  if (given === null || given === undefined) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The 403 AccessDenied that STS returns when the trust policy rejects an AssumeRole. */
export function renderAssumeRoleAccessDenied(callerArn: string, roleArn: string, requestId?: string): AwsErrorResponse {
  return renderQueryError(
    'sts',
    {
      status: 403,
      type: 'Sender',
      code: 'AccessDenied',
      message: `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    },
    requestId,
  );
}

export class TrustTable {
  private readonly entries = new Map<string, string>();
  private readonly file: string | undefined;

  constructor(stateDir?: string) {
    this.file = stateDir ? path.join(stateDir, 'trust.json') : undefined;
    if (this.file) {
      const stored = readJsonFile(this.file);
      if (stored !== undefined) {
        const parsed = trustEntriesSchema.safeParse(stored);
        if (!parsed.success) throw new Error(`${this.file} is invalid:\n${z.prettifyError(parsed.error)}`);
        for (const e of parsed.data.entries) this.entries.set(e.roleArn, e.externalId);
      }
    }
  }

  /** Adds or replaces entries (merge by role ARN). */
  merge(entries: TrustEntry[]): void {
    for (const e of entries) this.entries.set(e.roleArn, e.externalId);
    this.save();
  }

  remove(roleArn: string): boolean {
    const removed = this.entries.delete(roleArn);
    if (removed) this.save();
    return removed;
  }

  clear(): void {
    this.entries.clear();
    this.save();
  }

  has(roleArn: string): boolean {
    return this.entries.has(roleArn);
  }

  /** Whether an AssumeRole of `roleArn` with `externalId` is allowed by the trust policy. */
  allows(roleArn: string, externalId: string | null | undefined): boolean {
    const expected = this.entries.get(roleArn);
    return expected === undefined || externalIdMatches(expected, externalId);
  }

  summary(): TrustSummary {
    const roleArns = [...this.entries.keys()].sort();
    return { count: roleArns.length, roleArns };
  }

  private save(): void {
    if (!this.file) return;
    if (this.entries.size === 0) {
      removeFile(this.file);
      return;
    }
    const entries = [...this.entries].map(([roleArn, externalId]) => ({ roleArn, externalId }));
    writeJsonFile(this.file, { entries });
  }
}
