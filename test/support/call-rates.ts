import type { LoggedCall } from '../../stack/aws-proxy/core/call-log';
import { proxyAdmin } from './proxy-admin';

export type { LoggedCall };

/** Every AWS call the proxy saw since `since` (epoch ms): arrival time, API, region and account. */
export async function callsSince(awsEndpoint: string, since: number): Promise<LoggedCall[]> {
  const res = await proxyAdmin<{ calls: LoggedCall[] }>(awsEndpoint, 'GET', `calls?since=${since}`);
  if (res.status !== 200) throw new Error(`GET /__fleetops/calls: ${res.status} ${res.text}`);
  return res.json.calls;
}

/** Calls per second over [from, to) (epoch ms), from arrival times. */
export function rateBetween(times: number[], from: number, to: number): number {
  return times.filter((t) => t >= from && t < to).length / ((to - from) / 1000);
}

/**
 * Calls per second over the whole wall-clock seconds inside [from, to] (epoch ms): the shared budgets
 * count in whole-second windows, so a saturated budget admits exactly its calls in each of them.
 */
export function wholeSecondRate(times: number[], from: number, to: number): { rate: number; seconds: number } {
  const first = Math.ceil(from / 1000);
  const end = Math.floor(to / 1000);
  const seconds = end - first;
  if (seconds <= 0) return { rate: NaN, seconds: 0 };
  const n = times.filter((t) => t >= first * 1000 && t < end * 1000).length;
  return { rate: n / seconds, seconds };
}

/** The most calls in any `spanMs` stretch (sliding over arrival times). */
export function busiestSpan(times: number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= spanMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** Groups calls by `key`. */
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * The longest stretch (epoch ms) during which at least `n` of the `[start, end]` intervals overlap —
 * e.g. the seconds in which at least n accounts were baking, so that their demand exceeded a budget.
 * `{ from: 0, to: 0 }` when they never do.
 */
export function longestSpanWithAtLeast(intervals: Array<[number, number]>, n: number): { from: number; to: number } {
  const edges = intervals.flatMap(([a, b]): Array<[number, number]> => [
    [a, +1],
    [b, -1],
  ]);
  edges.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  let open = 0;
  let since: number | undefined;
  let best = { from: 0, to: 0 };
  for (const [t, d] of edges) {
    open += d;
    if (open >= n && since === undefined) since = t;
    if (open < n && since !== undefined) {
      if (t - since > best.to - best.from) best = { from: since, to: t };
      since = undefined;
    }
  }
  return best;
}
