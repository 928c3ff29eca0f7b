/** One Secrets Manager request as the layer's action handlers see it. */
import { forwardRequest, passThrough, type LayerRequest, type LayerResponse } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import { SecretsMoto } from './secrets-calls';

export class SecretsCall {
  readonly moto: SecretsMoto;

  constructor(
    private readonly forwarder: UpstreamForwarder,
    readonly req: LayerRequest,
    /** The request's JSON body. */
    readonly params: Record<string, unknown>,
  ) {
    this.moto = new SecretsMoto(forwarder, req);
  }

  /** A string parameter, or undefined when absent or empty. */
  param(name: string): string | undefined {
    const value = this.params[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /** Forwards the request, with `params` as its body when given. */
  async forward(outcome = 'forwarded', params?: Record<string, unknown>): Promise<LayerResponse> {
    const body = params === undefined ? this.req.body : Buffer.from(JSON.stringify(params));
    return passThrough(await forwardRequest(this.forwarder, this.req, body), outcome);
  }
}
