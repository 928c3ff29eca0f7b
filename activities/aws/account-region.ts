import type { FleetAccount } from '../../fleet/fleet-schema';
import type { AccountCredentials } from './account-credentials';
import type { AwsClients } from './aws-clients';
import type { RateLimits } from './rate-limiter';

/** What a call into a customer account needs: clients, the account's credentials, the rate budgets. */
export type AccountAwsDeps = { clients: AwsClients; credentials: AccountCredentials; limits: RateLimits };

/**
 * Where a call acts: the account (its role and pipeline stack name come from the fleet file), one of
 * its regions, and `runId`, which names the role session.
 */
export type AccountRegion = { account: FleetAccount; region: string; runId: string };

/** How the polling loops wait and report liveness (an activity passes its heartbeat and cancellable sleep). */
export type PollHooks = { heartbeat?: (details?: unknown) => void; sleep?: (ms: number) => Promise<void> };
