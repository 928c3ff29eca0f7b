import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { CampaignRevertPlanner } from '../../cli/commands/campaign-revert-plan';
import type { AccountOperationResult } from '../../workflows/operation/account-operation';

// The revert of an AMI rollout run by fleetops before reverts existed: its results (here the real ones
// of the recorded fixture accountAmiRollout-ami-*, from that code) name no launch template, so the
// planner refuses the whole revert, naming the campaign, each account and group. A minimal stand-in
// for the Temporal client (a closed campaign and its children) — the only way to get results of older code.
const FIXTURES = path.join(__dirname, '../fixtures/histories');
const CAMPAIGN = 'fixture-ami-rollout';

/** The child's result as the old code returned it (the last event of its recorded history). */
function oldResult(accountId: string): AccountOperationResult {
  const h = JSON.parse(fs.readFileSync(path.join(FIXTURES, `accountAmiRollout-ami-${accountId}.json`), 'utf8')) as {
    events: Array<{ workflowExecutionCompletedEventAttributes?: { result: { payloads: Array<{ data: string }> } } }>;
  };
  const done = h.events.at(-1)?.workflowExecutionCompletedEventAttributes;
  return JSON.parse(Buffer.from(done!.result.payloads[0].data, 'base64').toString()) as AccountOperationResult;
}

const attrs = (values: Record<string, string>) => ({ get: (key: { name: string }) => values[key.name] });

function fakeClient(results: AccountOperationResult[]): Client {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  const children = results.map((r) => ({
    workflowId: `${CAMPAIGN}/${r.accountId}`,
    runId: `run-${r.accountId}`,
    status: { name: 'COMPLETED' },
    typedSearchAttributes: attrs({ FleetState: r.outcome }),
  }));
  return {
    workflow: {
      getHandle: (id: string) => ({
        workflowId: id,
        describe: async () => ({
          type: 'fleetCampaign',
          status: { name: 'COMPLETED' },
          typedSearchAttributes: attrs({ FleetOperation: 'ami-rollout', FleetState: 'completed' }),
        }),
        result: async () =>
          id === CAMPAIGN
            ? { phase: 'completed', counts, notSelected: [] }
            : results.find((r) => id.endsWith(`/${r.accountId}`)),
      }),
      list: async function* () {
        yield* children;
      },
    },
  } as unknown as Client;
}

describe('revert of an AMI rollout by older fleetops', () => {
  it('is refused, naming the campaign, the accounts and their groups, and why', async () => {
    const results = ['500000000000', '500000000001', '500000000002'].map(oldResult);
    // the recorded rollout: two accounts rolled out (N → M recorded, no launch template), one rolled back
    expect(results.map((r) => r.outcome)).toEqual(['rolled-out', 'rolled-out', 'rolled-back']);
    expect(results[0].regions[0]).toMatchObject({ fromVersion: '1', toVersion: '2' });
    expect(results[0].regions[0].launchTemplateId).toBeUndefined();
    const refusal = await new CampaignRevertPlanner(fakeClient(results), 'default').plan(CAMPAIGN).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(refusal).toBeDefined();
    expect(refusal).toContain(`campaign "${CAMPAIGN}" cannot be reverted: account 500000000000: its result`);
    expect(refusal).toContain('account 500000000001: its result does not record the launch template');
    expect(refusal).toContain('of eu-west-1 data-pipeline-workers');
    expect(refusal).toContain('put these groups back by hand');
    expect(refusal).not.toContain('500000000002');
  });
});
