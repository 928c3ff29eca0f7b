/**
 * What reverting a closed campaign means, read from Temporal: every account the campaign changed with
 * the parameters that take it back (from the account's last child result, by the operation's `revert`),
 * and every account it did not change (left alone, with its outcome). Used by `fleetops campaign revert`;
 * takes a Temporal client only, so an activity can use it too.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RevertInput } from '../../workflows/campaign/campaign-input';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';
import type { AnyOperation } from '../../workflows/operation/operation-registry';
import { operations } from '../../workflows/operations';
import { FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE } from '../../workflows/search-attributes';
import { mapPool } from '../map-pool';
import { findCampaign, readCampaign } from './campaign-client';

/** A revert as resolved: the input's `revert` field plus what the new campaign runs with. */
export type RevertPlan = {
  revert: RevertInput;
  operation: string;
  /** The reverted campaign's operation parameters (as its children got them, defaults filled in). */
  params: Record<string, unknown>;
  /** The fleet file the reverted campaign's children read. */
  fleetFile: string;
  changed: number;
};

/** Child ids: `<campaign>/<account>` and `<campaign>/<account>/retry-N` (campaign-state.ts childId). */
const CHILD_ID = /^(.*)\/(\d{12})(?:\/retry-(\d+))?$/;
/** Child results read at once. */
const READ_CONCURRENCY = 16;
/** Visibility is eventually consistent: how often the child listing is read again until it has every child. */
const LISTING_ATTEMPTS = 10;

export class CampaignRevertPlanner {
  constructor(
    private readonly client: Client,
    private readonly namespace: string,
  ) {}

  /** Resolves the revert of campaign `id`; every refusal names the campaign and why. */
  async plan(id: string): Promise<RevertPlan> {
    const found = await findCampaign(this.client, this.namespace, id);
    if (found.running)
      throw new Error(
        `campaign "${id}" is still running: a revert takes back a closed campaign; wait for it to finish or cancel it first (npx fleetops campaign cancel ${id})`,
      );
    const opName = found.description.typedSearchAttributes.get(FLEET_OPERATION);
    if (!opName || !operations.has(opName))
      throw new Error(`campaign "${id}" has no known operation (${opName ?? 'none'})`);
    const op = operations.get(opName);
    if (!op.revert)
      throw new Error(
        `campaign "${id}" is a ${op.name} campaign: revert takes back ${revertible().join(', ')} campaigns only`,
      );
    const view = await readCampaign(this.client, found);
    if (view.status?.plan) throw new Error(`campaign "${id}" was a plan (preview only): it changed nothing to revert`);
    const expected = view.status?.counts[op.doneOutcome];
    const children = await this.lastAttempts(id, op, expected);
    const results = await mapPool(children, READ_CONCURRENCY, (c) => this.resultOf(c));
    const targets = new Map<string, { params: Record<string, unknown>; accountIds: string[] }>();
    const leftAlone: RevertInput['leftAlone'] = [];
    const refused: string[] = [];
    let firstChanged: WorkflowExecutionInfo | undefined;
    for (const [i, child] of children.entries()) {
      const accountId = CHILD_ID.exec(child.workflowId)![2];
      const result = results[i];
      if ('closedAs' in result) {
        leftAlone.push({
          accountId,
          state: result.closedAs,
          reason: `its workflow ${child.workflowId} ${result.closedAs}`,
        });
        continue;
      }
      const step = op.revert(result);
      if ('refused' in step) {
        refused.push(step.refused);
        continue;
      }
      if ('leftAlone' in step) {
        leftAlone.push({ accountId, state: result.outcome, reason: step.leftAlone });
        continue;
      }
      for (const part of step.leftAloneParts ?? []) leftAlone.push({ accountId, ...part });
      firstChanged ??= child;
      const key = JSON.stringify(step.params);
      const group = targets.get(key) ?? { params: step.params, accountIds: [] };
      group.accountIds.push(accountId);
      targets.set(key, group);
    }
    if (refused.length)
      throw new Error(
        `campaign "${id}" cannot be reverted: ${refused.slice(0, 3).join('; ')}${refused.length > 3 ? `; … ${refused.length - 3} more account(s) alike` : ''}`,
      );
    for (const n of view.status?.notSelected ?? [])
      leftAlone.push({ accountId: n.id, state: 'not-selected', reason: n.reason });
    const changed = [...targets.values()].reduce((n, t) => n + t.accountIds.length, 0);
    if (!firstChanged) {
      const outcomes = countBy(leftAlone.map((l) => l.state));
      throw new Error(`campaign "${id}" changed no account (${outcomes || 'no account ran'}): nothing to revert`);
    }
    const childInput = await this.inputOf(firstChanged);
    return {
      revert: { of: id, targets: [...targets.values()], leftAlone },
      operation: op.name,
      params: childInput[op.paramsField] as Record<string, unknown>,
      fleetFile: childInput.fleetFile as string,
      changed,
    };
  }

  /**
   * The last attempt of every account's child (operator retries start `…/retry-N`). The listing is read
   * again while it has fewer done children than the campaign's result counts (visibility lags a little).
   */
  private async lastAttempts(id: string, op: AnyOperation, expectedDone: number | undefined) {
    const query = `${FLEET_CAMPAIGN_ID.name} = "${id}" AND WorkflowType = "${op.childWorkflow.name}"`;
    for (let attempt = 1; ; attempt++) {
      const last = new Map<string, { info: WorkflowExecutionInfo; n: number }>();
      for await (const info of this.client.workflow.list({ query })) {
        const m = CHILD_ID.exec(info.workflowId);
        if (!m || m[1] !== id) continue;
        const n = Number(m[3] ?? 0);
        const seen = last.get(m[2]);
        if (!seen || seen.n < n) last.set(m[2], { info, n });
      }
      const children = [...last.values()].map((l) => l.info);
      const done = children.filter((c) => c.typedSearchAttributes.get(FLEET_STATE) === op.doneOutcome).length;
      if (expectedDone === undefined || done >= expectedDone || attempt >= LISTING_ATTEMPTS) return children;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** A closed child's result, or how it closed when it has none (failed, terminated…). */
  private async resultOf(child: WorkflowExecutionInfo): Promise<AccountOperationResult | { closedAs: string }> {
    if (child.status.name !== 'COMPLETED') return { closedAs: child.status.name.toLowerCase().replace(/_/g, ' ') };
    return (await this.client.workflow.getHandle(child.workflowId, child.runId).result()) as AccountOperationResult;
  }

  /** The child's input (its first history event): the operation parameters and fleet file it ran with. */
  private async inputOf(child: WorkflowExecutionInfo): Promise<Record<string, unknown>> {
    const history = await this.client.workflow.getHandle(child.workflowId, child.runId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`workflow ${child.workflowId} has no input in its history`);
    return defaultPayloadConverter.fromPayload(payload);
  }
}

function revertible(): string[] {
  return operations
    .all()
    .filter((o) => o.revert)
    .map((o) => o.name);
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${v} ${n}`).join(', ');
}
