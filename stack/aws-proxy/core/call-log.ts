/**
 * When each AWS call arrived, by API and account (names only, never parameters): the rate tests read
 * it (`GET /__fleetops/calls?since=<epoch ms>`) to measure the global rate of each budgeted API and the
 * rate each account saw, however many workers made the calls. Keeps the last `capacity` calls.
 */
import type { RequestInfo } from './request-info';

export interface LoggedCall {
  /** Arrival time, epoch milliseconds. */
  t: number;
  service: string;
  action: string;
  region: string;
  account: string;
}

export class CallLog {
  private readonly calls: LoggedCall[] = [];
  private start = 0; // index of the oldest kept call (a ring without copying on every insert)

  constructor(private readonly capacity = 200_000) {}

  record(info: Pick<RequestInfo, 'service' | 'action' | 'region' | 'account'>, t = Date.now()): void {
    const call = { t, service: info.service, action: info.action, region: info.region ?? '', account: info.account };
    if (this.calls.length < this.capacity) this.calls.push(call);
    else {
      this.calls[this.start] = call;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Calls that arrived at or after `since` (epoch ms), oldest first. */
  since(since: number): LoggedCall[] {
    const ordered =
      this.start === 0 ? this.calls : [...this.calls.slice(this.start), ...this.calls.slice(0, this.start)];
    return ordered.filter((c) => c.t >= since);
  }

  reset(): void {
    this.calls.length = 0;
    this.start = 0;
  }
}
