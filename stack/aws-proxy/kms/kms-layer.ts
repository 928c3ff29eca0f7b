/**
 * The KMS layer of the proxy, filling what moto lacks for sharing encrypted AMIs (measured on moto 5.2.5):
 *  - **cross-account use through grants**: moto looks a key up only in the caller's own account, so
 *    `DescribeKey`, `Decrypt`, `CreateGrant`, … naming another account's key ARN fail with
 *    NotFoundException. Here such a call is allowed when the key's owner gave the caller's account a
 *    grant (GranteePrincipal `arn:aws:iam::<account>:root`, or a principal of that account) whose
 *    Operations include the action, and is then answered by moto as the owner; otherwise it is refused
 *    with AccessDeniedException, as AWS does when neither key policy nor grant allows it. Key policies
 *    are not evaluated for other accounts (fleetops shares keys through grants only).
 *  - **CreateGrant is idempotent by name**: AWS answers a CreateGrant with the Name, grantee and
 *    operations of an existing grant with that grant's id; moto makes a second grant. Here the existing
 *    grant's id is answered (with a fresh grant token), nothing created.
 * Every other KMS call goes to moto unchanged.
 */
import type { RequestInfo } from '../core/request-info';
import {
  forwardRequest,
  passThrough,
  type LayerRequest,
  type LayerResponse,
  type ServiceLayer,
} from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import { randomBytes } from 'node:crypto';
import { kmsAs, kmsError, kmsJson, listGrants, type KmsGrant } from './kms-moto';

/** Actions that name a key in `KeyId` (the ones a grant can allow, and the grant calls). */
const KEY_ACTIONS = new Set([
  'DescribeKey',
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncrypt',
  'CreateGrant',
  'ListGrants',
]);
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;

export interface KmsLayerOptions {
  forwarder: UpstreamForwarder;
  now?: () => number;
}

export interface CrossAccountUse {
  callerAccount: string;
  keyArn: string;
  action: string;
  allowed: boolean;
  count: number;
}

export class KmsLayer implements ServiceLayer {
  readonly name = 'kms';
  private readonly now: () => number;
  private readonly uses = new Map<string, CrossAccountUse>();
  private replayedGrants = 0;

  constructor(private readonly opts: KmsLayerOptions) {
    this.now = opts.now ?? Date.now;
  }

  handles(info: RequestInfo): boolean {
    return info.service === 'kms' && KEY_ACTIONS.has(info.action);
  }

  async handle(req: LayerRequest): Promise<LayerResponse> {
    const params = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, unknown>;
    const keyId = typeof params.KeyId === 'string' ? params.KeyId : '';
    const arn = KEY_ARN.exec(keyId);
    const region = req.info.region ?? 'us-east-1';
    if (arn && arn[2] !== req.info.account)
      return this.crossAccount(req, params, { keyArn: keyId, owner: arn[2], region });
    if (req.info.action === 'CreateGrant') {
      const existing = await this.sameGrant(req.info.account, region, keyId, params);
      if (existing) {
        this.replayedGrants++;
        return kmsJson({ GrantId: existing.GrantId, GrantToken: randomBytes(32).toString('hex') }, 'replayed-grant');
      }
    }
    return passThrough(await forwardRequest(this.opts.forwarder, req));
  }

  /** A call on another account's key: allowed by a grant to the caller's account, then answered as the owner. */
  private async crossAccount(
    req: LayerRequest,
    params: Record<string, unknown>,
    key: { keyArn: string; owner: string; region: string },
  ): Promise<LayerResponse> {
    const { action, account } = req.info;
    const where = { account: key.owner, region: key.region, now: this.now() };
    const grants = await listGrants(this.opts.forwarder, where, key.keyArn);
    if (!grants.ok) return passThrough(grants.res);
    const allowed = grants.value.some(
      (g) => principalAccount(g.GranteePrincipal) === account && g.Operations.includes(action),
    );
    this.record(account, key.keyArn, action, allowed);
    if (!allowed)
      return kmsError(
        'AccessDeniedException',
        `User: arn:aws:sts::${account}:assumed-role/… is not authorized to perform: kms:${action} on resource: ` +
          `${key.keyArn} because no resource-based policy allows the kms:${action} action`,
      );
    if (action === 'CreateGrant') {
      const existing = await this.sameGrant(key.owner, key.region, key.keyArn, params);
      if (existing)
        return kmsJson({ GrantId: existing.GrantId, GrantToken: randomBytes(32).toString('hex') }, 'replayed-grant');
    }
    const out = await kmsAs(this.opts.forwarder, where, action, params);
    return out.ok ? kmsJson(out.value, 'forwarded(as-key-owner)') : passThrough(out.res);
  }

  /** The grant CreateGrant would duplicate: same Name, grantee and operations. */
  private async sameGrant(
    account: string,
    region: string,
    keyId: string,
    params: Record<string, unknown>,
  ): Promise<KmsGrant | undefined> {
    if (typeof params.Name !== 'string' || !params.Name || !keyId) return undefined;
    const grants = await listGrants(this.opts.forwarder, { account, region, now: this.now() }, keyId);
    if (!grants.ok) return undefined;
    const ops = [...((params.Operations as string[] | undefined) ?? [])].sort().join(',');
    return grants.value.find(
      (g) =>
        g.Name === params.Name &&
        g.GranteePrincipal === params.GranteePrincipal &&
        [...g.Operations].sort().join(',') === ops,
    );
  }

  private record(callerAccount: string, keyArn: string, action: string, allowed: boolean): void {
    const k = [callerAccount, keyArn, action, allowed].join('\u0000');
    const use = this.uses.get(k) ?? { callerAccount, keyArn, action, allowed, count: 0 };
    use.count++;
    this.uses.set(k, use);
  }

  snapshot(): Record<string, unknown> {
    return { crossAccountUses: [...this.uses.values()], replayedGrants: this.replayedGrants };
  }

  reset(): void {
    this.uses.clear();
    this.replayedGrants = 0;
  }
}

/** The account of a grantee principal (`arn:aws:iam::<account>:root`, `…:role/x`, or a bare account id). */
export function principalAccount(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1];
}
