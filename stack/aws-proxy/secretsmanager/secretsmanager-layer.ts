/**
 * The Secrets Manager layer of the proxy: what moto gets wrong about versions and staging labels,
 * always on; the fault plan's `secretsmanager` section adds stale reads for chosen accounts
 * (secretsmanager-faults.ts); throttling and 5xx per action come from the generic rules.
 *  - version-reads.ts: GetSecretValue without VersionId/VersionStage answers with AWSCURRENT;
 *  - version-tokens.ts: a ClientRequestToken reused with another value → ResourceExistsException,
 *    with the same value → idempotent success (PutSecretValue, UpdateSecret, CreateSecret);
 *  - version-dates.ts: ListSecretVersionIds answers each version's real CreatedDate (moto: the request time);
 *  - version-stages.ts: RotateSecret's "previous rotation isn't complete" check the right way round;
 *    UpdateSecretVersionStage attaching AWSCURRENT when no version is current.
 * Requests that change a secret's versions run one at a time per secret, so the layer's
 * read-then-write steps do not interleave.
 */
import type { RequestInfo } from '../core/request-info';
import type { LayerRequest, LayerResponse, ServiceLayer } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import { SecretsCall } from './secrets-call';
import type { SecretsManagerPlan } from './secretsmanager-faults';
import { listSecretVersionIds } from './version-dates';
import { getSecretValue } from './version-reads';
import { rotateSecret, updateSecretVersionStage } from './version-stages';
import { versionWithToken } from './version-tokens';

const ACTIONS: Record<string, (call: SecretsCall, plan?: SecretsManagerPlan) => Promise<LayerResponse>> = {
  GetSecretValue: getSecretValue,
  ListSecretVersionIds: listSecretVersionIds,
  PutSecretValue: versionWithToken,
  UpdateSecret: versionWithToken,
  CreateSecret: versionWithToken,
  RotateSecret: rotateSecret,
  UpdateSecretVersionStage: updateSecretVersionStage,
};

/** Actions that only read (need no per-secret ordering). */
const READS = new Set(['GetSecretValue', 'ListSecretVersionIds']);

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>` → name; a name stays as is. */
export function secretNameOf(secretId: string): string {
  const arn = /^arn:aws[\w-]*:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(secretId);
  return arn ? arn[1] : secretId;
}

export class SecretsManagerLayer implements ServiceLayer {
  readonly name = 'secretsmanager';
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly counts: Record<string, number> = {};

  constructor(
    private readonly forwarder: UpstreamForwarder,
    /** The fault plan's current `secretsmanager` section. */
    private readonly plan: () => SecretsManagerPlan | undefined = () => undefined,
  ) {}

  handles(info: RequestInfo): boolean {
    return info.service === 'secretsmanager' && info.protocol === 'json' && Object.hasOwn(ACTIONS, info.action);
  }

  async handle(req: LayerRequest): Promise<LayerResponse> {
    let params: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(req.body.toString('utf8') || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      params = parsed as Record<string, unknown>;
    } catch {
      params = {};
    }
    const call = new SecretsCall(this.forwarder, req, params);
    const action = ACTIONS[req.info.action];
    const plan = this.plan();
    const answer = READS.has(req.info.action)
      ? await action(call, plan)
      : await this.oneAtATime(call, () => action(call, plan));
    this.counts[answer.outcome] = (this.counts[answer.outcome] ?? 0) + 1;
    return answer;
  }

  /** How often each outcome happened (`forwarded(AWSCURRENT)`, `replayed-token`, ...). */
  snapshot(): { outcomes: Record<string, number> } {
    return { outcomes: { ...this.counts } };
  }

  reset(): void {
    for (const key of Object.keys(this.counts)) delete this.counts[key];
  }

  private async oneAtATime<T>(call: SecretsCall, work: () => Promise<T>): Promise<T> {
    const { info } = call.req;
    const secretId = call.param('SecretId') ?? call.param('Name') ?? '';
    const key = `${info.account}/${info.region ?? ''}/${secretNameOf(secretId)}`;
    const before = this.queues.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    }
  }
}
