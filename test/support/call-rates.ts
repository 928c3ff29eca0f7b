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
