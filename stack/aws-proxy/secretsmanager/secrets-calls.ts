/**
 * The Secrets Manager layer's own calls to moto (AWS JSON 1.1), signed like the client's request so
 * moto acts in the same account, and the layer's JSON answers and errors.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { renderServiceError } from '../core/aws-errors';
import { ownAnswer, type LayerRequest, type LayerResponse } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** Version id → its staging labels (DescribeSecret's `VersionIdsToStages`). */
export type VersionStages = Record<string, string[]>;

export interface SecretDescription {
  ARN: string;
  Name: string;
  VersionIdsToStages: VersionStages;
}

export interface SecretValue {
  ARN: string;
  Name: string;
  VersionId: string;
  VersionStages: string[];
  SecretString?: string;
  SecretBinary?: string;
}

export type MotoResult<T> = { ok: true; value: T } | { ok: false; status: number; type: string; message: string };

/** moto, as seen by one client request (its account, region and signature headers). */
export class SecretsMoto {
  constructor(
    private readonly forwarder: UpstreamForwarder,
    private readonly req: LayerRequest,
  ) {}

  async call<T>(action: string, params: Record<string, unknown>): Promise<MotoResult<T>> {
    const headers: IncomingHttpHeaders = {
      authorization: this.req.headers.authorization,
      'x-amz-date': this.req.headers['x-amz-date'],
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `secretsmanager.${action}`,
    };
    if (this.req.headers['x-amz-security-token'])
      headers['x-amz-security-token'] = this.req.headers['x-amz-security-token'];
    const res = await this.forwarder.request('POST', '/', headers, Buffer.from(JSON.stringify(params)));
    const text = res.body.toString('utf8');
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      return {
        ok: false,
        status: res.status,
        type: 'InternalFailure',
        message: `moto answered ${action} with non-JSON`,
      };
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, value: json as T };
    const type = String(json.__type ?? res.headers['x-amzn-errortype'] ?? 'InternalFailure').split(':')[0];
    return { ok: false, status: res.status, type, message: String(json.message ?? json.Message ?? '') };
  }

  describe(secretId: string): Promise<MotoResult<SecretDescription>> {
    return this.call<SecretDescription>('DescribeSecret', { SecretId: secretId });
  }

  valueOf(secretId: string, versionId: string): Promise<MotoResult<SecretValue>> {
    return this.call<SecretValue>('GetSecretValue', { SecretId: secretId, VersionId: versionId });
  }

  updateStage(
    secretId: string,
    stage: string,
    move: { removeFrom?: string; moveTo?: string },
  ): Promise<MotoResult<unknown>> {
    return this.call('UpdateSecretVersionStage', {
      SecretId: secretId,
      VersionStage: stage,
      ...(move.removeFrom ? { RemoveFromVersionId: move.removeFrom } : {}),
      ...(move.moveTo ? { MoveToVersionId: move.moveTo } : {}),
    });
  }
}

/** The version carrying `stage`, if any. */
export function versionWith(stages: VersionStages, stage: string): string | undefined {
  return Object.keys(stages).find((id) => stages[id].includes(stage));
}

/** A 200 JSON answer of the layer's own. */
export function jsonAnswer(value: unknown, outcome: string): LayerResponse {
  return ownAnswer(
    {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: Buffer.from(JSON.stringify(value)),
    },
    outcome,
  );
}

/** A Secrets Manager error as AWS sends it (`__type`, `message`, `x-amzn-errortype`). */
export function secretsError(code: string, message: string, outcome: string, status = 400): LayerResponse {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return ownAnswer(
    renderServiceError('secretsmanager', { status, code, message, type }, { protocol: 'json' }),
    outcome,
  );
}

/** moto's refusal passed on unchanged (as an answer of the layer's own). */
export function motoError(result: { status: number; type: string; message: string }, outcome: string): LayerResponse {
  return secretsError(result.type, result.message, outcome, result.status);
}
