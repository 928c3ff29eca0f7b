/**
 * Admin endpoints under `/__fleetops/` (never forwarded to moto):
 *   GET  /__fleetops/health                 → { ok, upstream }
 *   GET|PUT|DELETE /__fleetops/trust        → role ARNs + count only (PUT { entries:[{roleArn, externalId}] } merges;
 *                                             DELETE clears, or removes one with ?roleArn=)
 *   GET|PUT|DELETE /__fleetops/faults       → the fault plan (PUT replaces, DELETE clears)
 *   GET  /__fleetops/stats, POST /__fleetops/stats/reset
 *   GET|DELETE /__fleetops/cloudformation/executions → { executions: [{ account, region, stackName, changeSetName, version, count }] }
 *                                             (how often each change set execution took effect; DELETE resets)
 *   GET|DELETE /__fleetops/ec2/shares         → { shares: [{ ownerAccount, region, imageId, userId, active, adds, removes,
 *                                             firstSharedAt, lastChangedAt }] } (AMI launch permissions; DELETE forgets them)
 *   GET|PUT|DELETE /__fleetops/ec2/organizations → { accounts: [{ accountId, organizationArn, organizationalUnitArns }] }
 *                                             (PUT merges: which organization / OUs an account is in, for image
 *                                             shares with an organization or OU; DELETE forgets them)
 *   GET|DELETE /__fleetops/autoscaling/refreshes → { refreshes: [{ account, region, groupName, instanceRefreshId, startedBy,
 *                                             startedAt, desired, previous, status, percentageComplete, applied }],
 *                                             starts: [{ account, region, groupName, starts }] } (DELETE forgets every refresh)
 *   GET|DELETE /__fleetops/<layer>          → what a service layer holds; DELETE forgets it:
 *                                             cloudformation (simulated stack statuses, fired alarms, ledger, counts),
 *                                             iam (access key ids with status, account and creation time; refusals),
 *                                             sts (AssumeRole decisions per rule), secretsmanager (outcome counts),
 *                                             ec2 (shares, launch template ClientTokens), autoscaling (refreshes, fired alarms)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AutoScalingLayer } from './autoscaling/autoscaling-layer';
import type { CloudFormationLayer } from './cloudformation/cloudformation-layer';
import { accountOrganizationsSchema } from './ec2/account-organizations';
import type { Ec2Layer } from './ec2/ec2-layer';
import type { FaultInjector } from './core/fault-injector';
import type { ProxyStats } from './core/proxy-stats';
import type { ServiceLayer } from './core/service-layer';
import { trustEntriesSchema, type TrustTable } from './sts/trust-table';

export const ADMIN_PREFIX = '/__fleetops/';
const MAX_ADMIN_BODY = 1024 * 1024;

export interface AdminDeps {
  upstream: string;
  trust: TrustTable;
  faults: FaultInjector;
  stats: ProxyStats;
  cloudformation: CloudFormationLayer;
  ec2: Ec2Layer;
  autoscaling: AutoScalingLayer;
  layers: ServiceLayer[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

export function isAdminPath(url: string | undefined): boolean {
  return (url ?? '').startsWith(ADMIN_PREFIX);
}

export async function handleAdminRequest(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://proxy.invalid');
  const route = url.pathname.slice(ADMIN_PREFIX.length).replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  try {
    switch (`${method} ${route}`) {
      case 'GET health':
        return sendJson(res, 200, { ok: true, upstream: deps.upstream });

      case 'GET trust':
        return sendJson(res, 200, deps.trust.summary());
      case 'PUT trust': {
        const parsed = trustEntriesSchema.safeParse(await readJsonBody(req));
        if (!parsed.success)
          return sendJson(res, 400, { message: `invalid trust entries:\n${z.prettifyError(parsed.error)}` });
        deps.trust.merge(parsed.data.entries);
        return sendJson(res, 200, deps.trust.summary());
      }
      case 'DELETE trust': {
        const roleArn = url.searchParams.get('roleArn');
        if (roleArn) deps.trust.remove(roleArn);
        else deps.trust.clear();
        return sendJson(res, 200, deps.trust.summary());
      }

      case 'GET faults':
        return sendJson(res, 200, deps.faults.plan);
      case 'PUT faults': {
        const result = deps.faults.replace(await readJsonBody(req));
        if (!result.ok) return sendJson(res, 400, { message: result.message });
        return sendJson(res, 200, result.plan);
      }
      case 'DELETE faults':
        deps.faults.clear();
        return sendJson(res, 200, deps.faults.plan);

      case 'GET stats':
        return sendJson(res, 200, deps.stats.snapshot());
      case 'GET calls': {
        const since = Number(url.searchParams.get('since') ?? 0);
        if (!Number.isFinite(since)) return sendJson(res, 400, { message: 'since: expected epoch milliseconds' });
        return sendJson(res, 200, { calls: deps.stats.calls.since(since) });
      }
      case 'POST stats/reset':
        deps.stats.reset();
        return sendJson(res, 200, deps.stats.snapshot());

      case 'GET cloudformation/executions':
        return sendJson(res, 200, { executions: deps.cloudformation.executions() });
      case 'DELETE cloudformation/executions':
        deps.cloudformation.ledger.reset();
        return sendJson(res, 200, { executions: deps.cloudformation.executions() });

      case 'GET ec2/shares':
        return sendJson(res, 200, { shares: deps.ec2.shareLedger() });
      case 'DELETE ec2/shares':
        deps.ec2.shares.reset();
        return sendJson(res, 200, { shares: deps.ec2.shareLedger() });

      case 'GET ec2/organizations':
        return sendJson(res, 200, { accounts: deps.ec2.organizations.list() });
      case 'PUT ec2/organizations': {
        const parsed = accountOrganizationsSchema.safeParse(await readJsonBody(req));
        if (!parsed.success)
          return sendJson(res, 400, { message: `invalid organizations:\n${z.prettifyError(parsed.error)}` });
        deps.ec2.organizations.merge(parsed.data.accounts);
        return sendJson(res, 200, { accounts: deps.ec2.organizations.list() });
      }
      case 'DELETE ec2/organizations':
        deps.ec2.organizations.reset();
        return sendJson(res, 200, { accounts: deps.ec2.organizations.list() });

      case 'GET autoscaling/refreshes':
        return sendJson(res, 200, deps.autoscaling.ledger());
      case 'DELETE autoscaling/refreshes':
        deps.autoscaling.reset();
        return sendJson(res, 200, deps.autoscaling.ledger());
      default: {
        const layer = deps.layers.find((l) => l.name === route && l.snapshot);
        if (layer && method === 'GET') return sendJson(res, 200, layer.snapshot?.());
        if (layer && method === 'DELETE') {
          layer.reset?.();
          return sendJson(res, 200, layer.snapshot?.());
        }
        return sendJson(res, 404, { message: `no admin endpoint ${method} ${url.pathname}` });
      }
    }
  } catch (err) {
    if (err instanceof HttpError) return sendJson(res, err.status, { message: err.message });
    return sendJson(res, 500, { message: (err as Error).message });
  }
}
