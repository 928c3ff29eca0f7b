/**
 * The STS layer of the proxy: sts:AssumeRole with the ExternalId check moto lacks, and attribution
 * of the credentials it hands out to the role's account (assumed-credentials.ts).
 *
 * The role's actual trust policy is the source of truth (read from moto's IAM in the role's account
 * on every AssumeRole, so UpdateAssumeRolePolicy takes effect at once; trust-policy.ts evaluates its
 * `sts:ExternalId` conditions). A role moto does not have (moto lets any ARN be assumed) falls back to
 * the trust table (trust-table.ts, fed by `sim seed` and the admin API); a role in neither passes.
 */
import { accountFromRoleArn, type RequestInfo } from '../core/request-info';
import { decodeXml, motoQueryCall } from '../core/moto-query';
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
import { parseAssumeRoleResponse, type AssumedCredentialsMap } from './assumed-credentials';
import { trustPolicyAllows } from './trust-policy';
import { renderAssumeRoleAccessDenied, type TrustTable } from './trust-table';

export interface StsLayerOptions {
  forwarder: UpstreamForwarder;
  trust: TrustTable;
  credentials: AssumedCredentialsMap;
}

/** Which rule decided an AssumeRole (for the log line and the admin view). */
export type TrustSource = 'trust-policy' | 'trust-table' | 'open';

/** The role's AssumeRolePolicyDocument as moto holds it, or undefined when moto has no such role. */
export async function readTrustPolicy(forwarder: UpstreamForwarder, roleArn: string): Promise<string | undefined> {
  const account = accountFromRoleArn(roleArn);
  const roleName = roleArn.split('/').pop();
  if (!account || !roleName) return undefined;
  const res = await motoQueryCall(forwarder, { account }, 'iam', { Action: 'GetRole', RoleName: roleName });
  const xml = res.body.toString('utf8');
  if (res.status === 404 || /<Code>NoSuchEntity<\/Code>/.test(xml)) return undefined;
  if (!isOk(res)) throw new Error(`moto GetRole answered HTTP ${res.status}`);
  const encoded = /<AssumeRolePolicyDocument>([\s\S]*?)<\/AssumeRolePolicyDocument>/.exec(xml)?.[1];
  if (encoded === undefined) return undefined;
  const text = decodeXml(encoded.trim());
  // moto, like AWS, URL-encodes the document.
  return text.startsWith('{') ? text : decodeURIComponent(text);
}

export class StsLayer implements ServiceLayer {
  readonly name = 'sts';
  private readonly decided: Record<TrustSource, { allowed: number; denied: number }> = {
    'trust-policy': { allowed: 0, denied: 0 },
    'trust-table': { allowed: 0, denied: 0 },
    open: { allowed: 0, denied: 0 },
  };

  constructor(private readonly opts: StsLayerOptions) {}

  handles(info: RequestInfo): boolean {
    return info.service === 'sts' && info.action === 'AssumeRole';
  }

  async handle(req: LayerRequest): Promise<LayerResponse> {
    const { params, accessKeyId, account } = req.info;
    const roleArn = params.get('RoleArn') ?? '';
    const externalId = params.get('ExternalId');
    const policy = await readTrustPolicy(this.opts.forwarder, roleArn);
    let source: TrustSource;
    let allowed: boolean;
    if (policy !== undefined) {
      source = 'trust-policy';
      allowed = trustPolicyAllows(policy, externalId);
    } else {
      source = this.opts.trust.has(roleArn) ? 'trust-table' : 'open';
      allowed = this.opts.trust.allows(roleArn, externalId);
    }
    this.decided[source][allowed ? 'allowed' : 'denied']++;
    if (!allowed) {
      const denied = renderAssumeRoleAccessDenied(this.opts.credentials.callerArn(accessKeyId), roleArn);
      return ownAnswer(denied, `access-denied(external-id, ${source})`, true);
    }

    const res = await forwardRequest(this.opts.forwarder, req);
    if (res.status === 200) {
      const assumed = parseAssumeRoleResponse(res.body.toString('utf8'));
      if (assumed)
        this.opts.credentials.remember(assumed.accessKeyId, { account, assumedRoleArn: assumed.assumedRoleArn });
    }
    return passThrough(res, `forwarded(${source})`);
  }

  /** How many AssumeRole calls each rule allowed and denied. */
  snapshot(): { assumeRole: Record<TrustSource, { allowed: number; denied: number }> } {
    return { assumeRole: structuredClone(this.decided) };
  }

  reset(): void {
    for (const counts of Object.values(this.decided)) {
      counts.allowed = 0;
      counts.denied = 0;
    }
  }
}
