/**
 * What the proxy knows about IAM users' access keys (moto never checks a key's status): learned
 * from CreateAccessKey / UpdateAccessKey / DeleteAccessKey passing through the proxy, and for a key
 * it has not seen, asked from moto once (GetCallerIdentity signed with the key names its user and
 * account, ListAccessKeys gives status and creation date). Secret access keys are never kept.
 */
import { motoQueryCall, xmlTag } from '../core/moto-query';
import type { UpstreamForwarder } from '../core/upstream-forwarder';

export type KeyStatus = 'Active' | 'Inactive' | 'Deleted';

export interface AccessKeyRecord {
  accessKeyId: string;
  status: KeyStatus;
  /** Epoch ms when the key was created (0 when unknown: an old key). */
  createdAt: number;
  account: string;
  userName?: string;
}

/** IAM user keys look like this (moto makes them the same way); temporary keys start with ASIA. */
const USER_KEY = /^AKIA[A-Z0-9]{16}$/;
/** How long "moto does not know this key" is remembered before asking again. */
const UNKNOWN_TTL_MS = 5_000;

export function isUserAccessKey(accessKeyId: string | undefined): accessKeyId is string {
  return accessKeyId !== undefined && USER_KEY.test(accessKeyId);
}

/** The members of `ListAccessKeys`' `<AccessKeyMetadata>`. */
export function parseAccessKeyList(xml: string): Array<{ accessKeyId: string; status: string; createDate?: string }> {
  const list = /<AccessKeyMetadata>([\s\S]*?)<\/AccessKeyMetadata>/.exec(xml)?.[1] ?? '';
  return [...list.matchAll(/<member>([\s\S]*?)<\/member>/g)].flatMap((m) => {
    const accessKeyId = xmlTag(m[1], 'AccessKeyId');
    const status = xmlTag(m[1], 'Status');
    return accessKeyId && status ? [{ accessKeyId, status, createDate: xmlTag(m[1], 'CreateDate') }] : [];
  });
}

function statusOf(text: string | undefined): KeyStatus | undefined {
  return text === 'Active' || text === 'Inactive' ? text : undefined;
}

export class AccessKeyRegistry {
  private readonly keys = new Map<string, AccessKeyRecord>();
  private readonly unknown = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<AccessKeyRecord | undefined>>();

  constructor(
    private readonly forwarder: UpstreamForwarder,
    private readonly now: () => number = Date.now,
  ) {}

  /** A key created through the proxy (CreateAccessKey's answer). */
  created(accessKeyId: string, record: Omit<AccessKeyRecord, 'accessKeyId'>): void {
    this.unknown.delete(accessKeyId);
    this.keys.set(accessKeyId, { accessKeyId, ...record });
  }

  /** UpdateAccessKey / DeleteAccessKey went through. */
  statusChanged(accessKeyId: string, status: KeyStatus, account: string, userName?: string): void {
    this.unknown.delete(accessKeyId);
    const known = this.keys.get(accessKeyId);
    this.keys.set(accessKeyId, known ? { ...known, status } : { accessKeyId, status, createdAt: 0, account, userName });
  }

  known(accessKeyId: string): AccessKeyRecord | undefined {
    return this.keys.get(accessKeyId);
  }

  accountOf = (accessKeyId: string): string | undefined => this.keys.get(accessKeyId)?.account;

  /** The key's record, asking moto when the proxy has not seen the key (undefined: moto does not know it either). */
  async resolve(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const known = this.keys.get(accessKeyId);
    if (known) return known;
    const missedAt = this.unknown.get(accessKeyId);
    if (missedAt !== undefined && this.now() - missedAt < UNKNOWN_TTL_MS) return undefined;
    let lookup = this.lookups.get(accessKeyId);
    if (!lookup) {
      lookup = this.askMoto(accessKeyId).finally(() => this.lookups.delete(accessKeyId));
      this.lookups.set(accessKeyId, lookup);
    }
    return lookup;
  }

  list(): AccessKeyRecord[] {
    return [...this.keys.values()].sort((a, b) => a.accessKeyId.localeCompare(b.accessKeyId));
  }

  reset(): void {
    this.keys.clear();
    this.unknown.clear();
  }

  private async askMoto(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const miss = (): undefined => {
      this.unknown.set(accessKeyId, this.now());
      return undefined;
    };
    const caller = { accessKeyId };
    const who = await motoQueryCall(this.forwarder, caller, 'sts', { Action: 'GetCallerIdentity' }, this.now());
    const arn = who.status === 200 ? xmlTag(who.body.toString('utf8'), 'Arn') : undefined;
    const user = arn ? /^arn:aws[\w-]*:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(arn) : null;
    if (!user) return miss();
    const [, account, userName] = user;
    const listed = await motoQueryCall(
      this.forwarder,
      caller,
      'iam',
      { Action: 'ListAccessKeys', UserName: userName },
      this.now(),
    );
    if (listed.status !== 200) return miss();
    const entry = parseAccessKeyList(listed.body.toString('utf8')).find((k) => k.accessKeyId === accessKeyId);
    const status = statusOf(entry?.status);
    if (!entry || !status) return miss();
    const created = entry.createDate ? Date.parse(entry.createDate) : NaN;
    // A status change that passed through the proxy meanwhile wins over what moto said a moment ago.
    const meanwhile = this.keys.get(accessKeyId);
    if (meanwhile) return meanwhile;
    const record: AccessKeyRecord = {
      accessKeyId,
      status,
      createdAt: Number.isFinite(created) ? created : 0,
      account,
      userName,
    };
    this.keys.set(accessKeyId, record);
    return record;
  }
}
