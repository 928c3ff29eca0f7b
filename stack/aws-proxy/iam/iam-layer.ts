/**
 * The IAM layer of the proxy: access-key status, which moto never checks.
 *  - refuse: a request signed with an Inactive or deleted IAM user key gets AWS's invalid-credentials
 *    error (InvalidClientTokenId 403 for STS/IAM, UnrecognizedClientException for JSON services, ...),
 *    and so does a key younger than the fault plan's `iam.newKeyDelayMs` (AWS: a new key works seconds later);
 *  - handles CreateAccessKey / UpdateAccessKey / DeleteAccessKey: forwarded, and what they did is
 *    remembered (access-keys.ts; keys the proxy has not seen are asked from moto once);
 *  - UpdateAssumeRolePolicy: forwarded, or — fault plan `iam.trustPolicyUpdatesIgnoredFor` — answered
 *    success without being applied.
 */
import { randomUUID } from 'node:crypto';
import type { RequestInfo } from '../core/request-info';
import { xmlTag } from '../core/moto-query';
import {
  forwardRequest,
  isOk,
  ownAnswer,
  passThrough,
  type LayerRequest,
  type LayerResponse,
  type ServiceLayer,
} from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import { AccessKeyRegistry, isUserAccessKey, type AccessKeyRecord } from './access-keys';
import { renderInvalidCredentials } from './credential-errors';
import { isKeyTooNew, isTrustPolicyUpdateIgnored, type IamPlan } from './iam-faults';

const KEY_ACTIONS = new Set(['CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey']);
const UPDATE_TRUST_POLICY = 'UpdateAssumeRolePolicy';

/** IAM's empty success answer to UpdateAssumeRolePolicy. */
function trustPolicyUpdated(): { status: number; headers: Record<string, string>; body: Buffer } {
  const body =
    '<UpdateAssumeRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">' +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></UpdateAssumeRolePolicyResponse>`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(body) };
}

export interface IamLayerOptions {
  forwarder: UpstreamForwarder;
  /** The fault plan's current `iam` section. */
  plan: () => IamPlan | undefined;
  now?: () => number;
}

export class IamLayer implements ServiceLayer {
  readonly name = 'iam';
  readonly keys: AccessKeyRegistry;
  private readonly now: () => number;
  private refused = 0;

  constructor(private readonly opts: IamLayerOptions) {
    this.now = opts.now ?? Date.now;
    this.keys = new AccessKeyRegistry(opts.forwarder, this.now);
  }

  async refuse(req: LayerRequest): Promise<LayerResponse | undefined> {
    const { accessKeyId, service, protocol } = req.info;
    if (!isUserAccessKey(accessKeyId)) return undefined;
    const key = await this.keys.resolve(accessKeyId);
    const why = key ? this.refusalReason(key) : undefined;
    if (!why) return undefined;
    this.refused++;
    return ownAnswer(renderInvalidCredentials(service, protocol), `refused(${why})`, true);
  }

  handles(info: RequestInfo): boolean {
    return (
      info.service === 'iam' &&
      info.protocol === 'query' &&
      (KEY_ACTIONS.has(info.action) || info.action === UPDATE_TRUST_POLICY)
    );
  }

  async handle(req: LayerRequest): Promise<LayerResponse> {
    if (req.info.action === UPDATE_TRUST_POLICY) {
      if (isTrustPolicyUpdateIgnored(this.opts.plan(), req.info.account))
        return ownAnswer(trustPolicyUpdated(), 'fault(trust-policy-update-ignored)');
      return passThrough(await forwardRequest(this.opts.forwarder, req));
    }
    const res = await forwardRequest(this.opts.forwarder, req);
    if (isOk(res)) this.remember(req.info, res.body.toString('utf8'));
    return passThrough(res);
  }

  snapshot(): { refused: number; keys: AccessKeyRecord[] } {
    return { refused: this.refused, keys: this.keys.list() };
  }

  reset(): void {
    this.refused = 0;
    this.keys.reset();
  }

  private refusalReason(key: AccessKeyRecord): string | undefined {
    if (key.status === 'Inactive') return 'inactive-key';
    if (key.status === 'Deleted') return 'deleted-key';
    if (isKeyTooNew(this.opts.plan(), key, this.now())) return 'new-key-not-yet-valid';
    return undefined;
  }

  private remember(info: RequestInfo, xml: string): void {
    const { params, account } = info;
    if (info.action === 'CreateAccessKey') {
      const accessKeyId = xmlTag(xml, 'AccessKeyId');
      const status = xmlTag(xml, 'Status');
      if (accessKeyId && (status === 'Active' || status === 'Inactive'))
        this.keys.created(accessKeyId, { status, createdAt: this.now(), account, userName: xmlTag(xml, 'UserName') });
      return;
    }
    const accessKeyId = params.get('AccessKeyId');
    if (!accessKeyId) return;
    const userName = params.get('UserName') ?? undefined;
    if (info.action === 'DeleteAccessKey') return this.keys.statusChanged(accessKeyId, 'Deleted', account, userName);
    const status = params.get('Status');
    if (status === 'Active' || status === 'Inactive') this.keys.statusChanged(accessKeyId, status, account, userName);
  }
}
