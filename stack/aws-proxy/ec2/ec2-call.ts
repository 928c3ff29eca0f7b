/**
 * One EC2 request as the layer's handlers see it: the account and region it acts in, its form
 * parameters, and the ways to answer — forward it (optionally with another body), call moto as any
 * account, or refuse with an EC2 error in AWS's wire format.
 */
import { renderServiceError } from '../core/aws-errors';
import { motoQueryCall } from '../core/moto-query';
import { forwardRequest, ownAnswer, type LayerRequest, type LayerResponse } from '../core/service-layer';
import type { BufferedResponse, UpstreamForwarder } from '../core/upstream-forwarder';

const DEFAULT_REGION = 'us-east-1';

export class Ec2Call {
  readonly account: string;
  readonly region: string;
  readonly params: URLSearchParams;

  constructor(
    private readonly forwarder: UpstreamForwarder,
    readonly req: LayerRequest,
    private readonly now: () => number,
  ) {
    this.account = req.info.account;
    this.region = req.info.region ?? DEFAULT_REGION;
    this.params = req.info.params;
  }

  /** Values of a numbered list parameter (`ImageId.1`, `ImageId.2`, …) in index order. */
  list(prefix: string): string[] {
    const found: Array<[number, string]> = [];
    const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`);
    for (const [name, value] of this.params) {
      const m = re.exec(name);
      if (m) found.push([Number(m[1]), value]);
    }
    return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /** The client's request, to moto, with `form` as its body when given. */
  forward(form?: URLSearchParams): Promise<BufferedResponse> {
    return forwardRequest(this.forwarder, this.req, form ? Buffer.from(form.toString()) : this.req.body);
  }

  /** An EC2 call of the proxy's own, acting in `account` (default: the caller's) in the request's region. */
  motoAs(params: Record<string, string>, account = this.account): Promise<BufferedResponse> {
    return motoQueryCall(this.forwarder, { account }, 'ec2', params, this.now(), this.region);
  }

  /** An EC2 error answer (400 unless given). */
  error(code: string, message: string, status = 400): LayerResponse {
    return ownAnswer(
      renderServiceError('ec2', { status, code, message, type: 'Sender' }, { protocol: 'ec2' }),
      `refused(${code})`,
    );
  }
}

/** The error code of a moto EC2 error answer, if it is one. */
export function ec2ErrorCode(res: BufferedResponse): string | undefined {
  if (res.status < 400) return undefined;
  return /<Code>([^<]+)<\/Code>/.exec(res.body.toString('utf8'))?.[1];
}
