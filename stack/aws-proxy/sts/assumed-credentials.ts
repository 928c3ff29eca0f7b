/**
 * Remembers which account each AssumeRole access key acts in, so later calls signed with that key
 * can be attributed to the right account (fault rules per account, stats, AccessDenied messages).
 */
import { DEFAULT_ACCOUNT_ID } from '../core/request-info';

export interface AssumedCredentials {
  account: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` as returned by STS. */
  assumedRoleArn?: string;
}

/** Reads the access key id and assumed-role ARN from an STS `AssumeRole` XML response. */
export function parseAssumeRoleResponse(xml: string): { accessKeyId: string; assumedRoleArn?: string } | undefined {
  const accessKeyId = /<AccessKeyId>\s*([^<\s]+)\s*<\/AccessKeyId>/.exec(xml)?.[1];
  if (!accessKeyId) return undefined;
  const assumedRoleArn = /<AssumedRoleUser>[\s\S]*?<Arn>\s*([^<\s]+)\s*<\/Arn>/.exec(xml)?.[1];
  return { accessKeyId, assumedRoleArn };
}

/** Bounded map: access key id → account (oldest keys are forgotten first). */
export class AssumedCredentialsMap {
  private readonly byKey = new Map<string, AssumedCredentials>();

  constructor(private readonly maxEntries = 100_000) {}

  remember(accessKeyId: string, credentials: AssumedCredentials): void {
    this.byKey.delete(accessKeyId);
    this.byKey.set(accessKeyId, credentials);
    if (this.byKey.size > this.maxEntries) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
  }

  get(accessKeyId: string | undefined): AssumedCredentials | undefined {
    return accessKeyId ? this.byKey.get(accessKeyId) : undefined;
  }

  accountOf = (accessKeyId: string): string | undefined => this.byKey.get(accessKeyId)?.account;

  /** ARN of the principal behind an access key, as AWS names it in AccessDenied messages. */
  callerArn(accessKeyId: string | undefined): string {
    const known = this.get(accessKeyId);
    if (known?.assumedRoleArn) return known.assumedRoleArn;
    return `arn:aws:iam::${known?.account ?? DEFAULT_ACCOUNT_ID}:user/fleetops`;
  }

  get size(): number {
    return this.byKey.size;
  }
}
