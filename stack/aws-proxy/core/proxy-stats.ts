/** Counters for what the proxy did, served at `GET /__fleetops/stats`. */
import { CallLog } from './call-log';
import type { RequestInfo } from './request-info';

export interface ProxyStatsSnapshot {
  requests: number;
  forwarded: number;
  injected: { throttle: number; serverError: number; latency: number };
  accessDenied: number;
  upstreamErrors: number;
  byService: Record<string, number>;
  /** Keyed `service:Action`, e.g. `sts:AssumeRole`. */
  byAction: Record<string, number>;
  /**
   * Requests received and not answered yet (delayed by an injected latency, or waiting for moto), oldest
   * first: what a chaos test checks before it kills a client "inside" a call. Names only, no bodies.
   */
  inFlight: InFlightRequest[];
}

export interface InFlightRequest {
  service: string;
  action: string;
  account: string;
  /** How long ago it arrived. */
  ms: number;
}

function emptySnapshot(): ProxyStatsSnapshot {
  return {
    requests: 0,
    forwarded: 0,
    injected: { throttle: 0, serverError: 0, latency: 0 },
    accessDenied: 0,
    upstreamErrors: 0,
    byService: {},
    byAction: {},
    inFlight: [],
  };
}

export class ProxyStats {
  private counts = emptySnapshot();
  private readonly open = new Map<number, Omit<InFlightRequest, 'ms'> & { since: number }>();
  private nextId = 0;
  /** Each call's arrival time, API and account (GET /__fleetops/calls). */
  readonly calls = new CallLog();

  /** A request arrived; the returned function marks it answered (or abandoned). */
  started(info: Pick<RequestInfo, 'service' | 'action' | 'account'>): () => void {
    const id = this.nextId++;
    this.open.set(id, { service: info.service, action: info.action, account: info.account, since: Date.now() });
    return () => void this.open.delete(id);
  }

  request(info: Pick<RequestInfo, 'service' | 'action' | 'region' | 'account'>): void {
    this.calls.record(info);
    this.counts.requests++;
    this.counts.byService[info.service] = (this.counts.byService[info.service] ?? 0) + 1;
    const key = `${info.service}:${info.action}`;
    this.counts.byAction[key] = (this.counts.byAction[key] ?? 0) + 1;
  }

  forwarded(): void {
    this.counts.forwarded++;
  }

  injected(kind: 'throttle' | 'serverError' | 'latency'): void {
    this.counts.injected[kind]++;
  }

  accessDenied(): void {
    this.counts.accessDenied++;
  }

  upstreamError(): void {
    this.counts.upstreamErrors++;
  }

  snapshot(): ProxyStatsSnapshot {
    const now = Date.now();
    const inFlight = [...this.open.values()].map(({ since, ...r }) => ({ ...r, ms: now - since }));
    return { ...structuredClone(this.counts), inFlight };
  }

  reset(): void {
    this.counts = emptySnapshot();
    this.calls.reset();
  }
}
