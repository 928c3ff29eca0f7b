/**
 * ClientRequestToken / ClientToken idempotency as CloudFormation does it: the first successful
 * response to a token is remembered per (account, region, action, stack, token) and replayed for
 * every later request carrying it, without doing the work again. A request arriving while the
 * first one with its token is still running waits for it. Failed attempts are not remembered (a
 * retry with the same token is evaluated afresh).
 */

export interface TokenScope {
  account: string;
  region: string;
  action: string;
  /** Stack name (or, when the stack is unknown, whatever the request names). */
  stack: string;
  token: string;
}

export function tokenKey(scope: TokenScope): string {
  return [scope.account, scope.region, scope.action, scope.stack, scope.token].join('\u0000');
}

type Entry<T> = { done: true; response: T } | { done: false; pending: Promise<T | undefined> };

export class RequestTokens<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    /** Whether a response is final (remembered and replayed), e.g. HTTP 2xx. */
    private readonly isFinal: (response: T) => boolean,
    private readonly maxEntries = 100_000,
  ) {}

  /**
   * Runs `work` unless `scope`'s token already has a final response (then `replay` of it is returned).
   * Without a scope (no token on the request) `work` always runs.
   */
  async run(scope: TokenScope | undefined, work: () => Promise<T>, replay: (first: T) => T): Promise<T> {
    if (!scope) return work();
    const key = tokenKey(scope);
    for (;;) {
      const entry = this.entries.get(key);
      if (!entry) break;
      if (entry.done) return replay(entry.response);
      const first = await entry.pending;
      if (first !== undefined && this.isFinal(first)) return replay(first);
      // the first attempt failed: if nobody else took the token meanwhile, this request runs
    }
    let settle: (value: T | undefined) => void = () => undefined;
    const pending = new Promise<T | undefined>((resolve) => (settle = resolve));
    this.entries.set(key, { done: false, pending });
    try {
      const response = await work();
      if (this.isFinal(response)) this.remember(key, response);
      else this.entries.delete(key);
      settle(response);
      return response;
    } catch (err) {
      this.entries.delete(key);
      settle(undefined);
      throw err;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  reset(): void {
    this.entries.clear();
  }

  private remember(key: string, response: T): void {
    this.entries.delete(key);
    this.entries.set(key, { done: true, response });
    if (this.entries.size <= this.maxEntries) return;
    for (const [oldest, entry] of this.entries) {
      if (!entry.done) continue;
      this.entries.delete(oldest);
      break;
    }
  }
}
