/** `fleetops campaign pause|resume|cancel|approve|retry|skip`: one validated update each, then the new status. */
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ACCOUNT_ID_PATTERN } from '../../fleet/fleet-schema';
import {
  approveUpdate,
  cancelUpdate,
  pauseUpdate,
  resumeUpdate,
  retryAccountUpdate,
  skipAccountUpdate,
  type CampaignStatus,
} from '../../workflows/campaign/campaign-messages';
import { connectTemporalClient, TASK_QUEUE } from '../temporal-client';
import { closedAs, findCampaign, type CampaignHandle } from './campaign-client';
import { formatCampaignHeader, formatNextSteps, formatProblems } from './campaign-status-view';

export type CampaignAction =
  | { kind: 'pause'; reason?: string }
  | { kind: 'resume' }
  | { kind: 'cancel'; reason?: string }
  | { kind: 'approve'; wave?: string; accountId?: string }
  | { kind: 'retry'; accountId: string }
  | { kind: 'skip'; accountId: string };

export type CampaignControlOptions = { json?: boolean; timeout?: number };

/** What the action is called in messages ("nothing to <verb>"), and what was done ("<done> campaign X"). */
const WORDS: Record<CampaignAction['kind'], { verb: string; done: string }> = {
  pause: { verb: 'pause', done: 'paused' },
  resume: { verb: 'resume', done: 'resumed' },
  cancel: { verb: 'cancel', done: 'cancelling' },
  approve: { verb: 'approve', done: 'approved in' },
  retry: { verb: 'retry', done: 'retrying in' },
  skip: { verb: 'skip', done: 'skipped in' },
};

/** Checks the request before anything is sent; throws naming the bad argument. */
export function checkCampaignAction(action: CampaignAction): void {
  const account = 'accountId' in action ? action.accountId : undefined;
  if (account !== undefined && !ACCOUNT_ID_PATTERN.test(account)) {
    throw new Error(
      `${action.kind === 'approve' ? '--account' : 'ACCOUNT'} "${account}": expected a 12-digit account id`,
    );
  }
  if (action.kind === 'approve' && action.wave !== undefined && !/^[a-z]+-\d+$/.test(action.wave)) {
    throw new Error(`--wave "${action.wave}": expected a wave name like canary-1 or general-2`);
  }
}

/** Sends the update; prints the campaign's new status. Every failure is an Error whose message says what was wrong. */
export async function runCampaignControl(
  id: string,
  action: CampaignAction,
  o: CampaignControlOptions = {},
): Promise<CampaignStatus> {
  checkCampaignAction(action);
  const words = WORDS[action.kind];
  const { client, namespace, close } = await connectTemporalClient();
  try {
    const found = await findCampaign(client, namespace, id);
    if (!found.running)
      throw new Error(`campaign ${id} already ${closedAs(found.description)}; nothing to ${words.verb}`);
    const status = await sendUpdate(client, found.handle, action, (o.timeout ?? 60) * 1000).catch((err: unknown) => {
      throw explainUpdateError(err, id, namespace, words.verb, o.timeout ?? 60);
    });
    if (o.json) {
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    } else {
      const target =
        'accountId' in action && action.accountId
          ? `account ${action.accountId} `
          : action.kind === 'approve' && action.wave
            ? `wave ${action.wave} `
            : '';
      const lines = [`${target}${words.done} campaign ${id}`, ...formatCampaignHeader(status)];
      const problem = 'accountId' in action ? status.problems?.filter((p) => p.accountId === action.accountId) : [];
      if (problem?.length) lines.push(...formatProblems({ ...status, problems: problem }).slice(1));
      lines.push(...formatNextSteps(status));
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return status;
  } finally {
    await close();
  }
}

function sendUpdate(
  client: Client,
  handle: CampaignHandle,
  action: CampaignAction,
  timeoutMs: number,
): Promise<CampaignStatus> {
  const deadline = Date.now() + timeoutMs;
  const run = (fn: () => Promise<CampaignStatus>) => client.withDeadline(deadline, fn);
  const reason = 'reason' in action && action.reason ? { reason: action.reason } : {};
  switch (action.kind) {
    case 'pause':
      return run(() => handle.executeUpdate(pauseUpdate, { args: [reason] }));
    case 'resume':
      return run(() => handle.executeUpdate(resumeUpdate));
    case 'cancel':
      return run(() => handle.executeUpdate(cancelUpdate, { args: [reason] }));
    case 'approve':
      return run(() =>
        handle.executeUpdate(approveUpdate, {
          args: [
            {
              ...(action.wave ? { wave: action.wave } : {}),
              ...(action.accountId ? { accountId: action.accountId } : {}),
            },
          ],
        }),
      );
    case 'retry':
      return run(() => handle.executeUpdate(retryAccountUpdate, { args: [{ accountId: action.accountId }] }));
    case 'skip':
      return run(() => handle.executeUpdate(skipAccountUpdate, { args: [{ accountId: action.accountId }] }));
  }
}

export function explainUpdateError(
  err: unknown,
  id: string,
  namespace: string,
  verb: string,
  timeoutSeconds: number,
): unknown {
  if (err instanceof WorkflowUpdateFailedError)
    return new Error(`campaign ${id} refused to ${verb}: ${err.cause?.message ?? err.message}`);
  // It was running a moment ago (checked first): "not found" now means it closed in between.
  if (err instanceof WorkflowNotFoundError)
    return new Error(`campaign ${id} in namespace ${namespace} closed before it took the ${verb} request`);
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new Error(
      `campaign ${id} did not take the ${verb} request within ${timeoutSeconds} s: is a worker running on task queue ${TASK_QUEUE()}? ` +
        `(docs/runbooks/worker-down.md). It may still be applied once a worker picks the campaign up: check with \`npx fleetops campaign status ${id}\``,
    );
  }
  return err;
}
