/** Counters for what the proxy did, served at `GET /__fleetops/stats`. */
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
  };
}

export class ProxyStats {
  private counts = emptySnapshot();

  request(info: Pick<RequestInfo, 'service' | 'action'>): void {
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
    return structuredClone(this.counts);
  }

  reset(): void {
    this.counts = emptySnapshot();
  }
}
