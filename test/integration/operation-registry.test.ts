import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { bundleWorkflowCode } from '@temporalio/worker';
import { campaignInputFromFlags } from '../../cli/commands/campaign-flags';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import { stringifyFleet } from '../../fleet/load-fleet';
import { fleetCampaign } from '../../workflows/campaign/fleet-campaign';
import { operations } from '../../workflows/operations';
import { FLEET_CAMPAIGN_ID, FLEET_OPERATION, FLEET_STATE } from '../../workflows/search-attributes';
import { createFleetWorker } from '../../worker/run-worker';
import { operationActivities } from '../../worker/operation-activities';
import { loadWorkerConfig } from '../../worker/worker-config';
import { createNoopActivities, touches } from '../support/noop-operation/noop-activities';
import { noopOperation } from '../support/noop-operation/noop-operation';
import { testClient, testStack } from '../support/test-stack';

// "A new operation is its own files plus a registration": the throwaway noop operation is registered
// from this test alone (worker side here, workflow side in its bundle entry) and runs a campaign
// through the real engine, worker and CLI flag parsing on the real local stack.
const cfg = testStack();
const TASK_QUEUE = 'noop-operation-test';
const ACCOUNTS = 7;
let fleetFile: string;
let worker: Awaited<ReturnType<typeof createFleetWorker>>;
let running: Promise<void>;
let temporal: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  operations.register(noopOperation);
  operationActivities.set(noopOperation.name, createNoopActivities);
  fleetFile = path.join(cfg.stateDir, 'noop-fleet.yaml');
  fs.writeFileSync(fleetFile, stringifyFleet(simulatedFleet(ACCOUNTS, { idBase: 910_000_000_000 })));
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../support/noop-operation/workflows.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const config = loadWorkerConfig({ ...process.env, FLEETOPS_TASK_QUEUE: TASK_QUEUE });
  worker = await createFleetWorker({ config, logger: pino({ level: 'silent' }), workflowBundle });
  running = worker.worker.run();
  temporal = await testClient(cfg);
});

afterAll(async () => {
  const steps = [
    async () => {
      worker?.worker.shutdown();
      await running;
    },
    () => worker?.close(),
    () => temporal?.close(),
  ];
  const errors: unknown[] = [];
  for (const step of steps) await Promise.resolve(step()).catch((e: unknown) => errors.push(e));
  fs.rmSync(fleetFile, { force: true });
  if (errors.length) throw errors[0];
});

describe('a throwaway operation registered from a test', () => {
  it(
    'runs a campaign through the real engine: CLI flags, engine input, child, activities, outcomes',
    { timeout: 30_000 },
    async () => {
      const { campaignId, input } = campaignInputFromFlags(
        {
          operation: 'noop',
          note: 'hello',
          fleet: fleetFile,
          maxInFlight: '3',
          failureBudget: '2',
          campaignId: `noop-${Date.now()}`,
        },
        new Date(),
      );
      expect(input).toMatchObject({ operation: 'noop', noop: { note: 'hello', failAccounts: [] } });
      // (the engine's input type knows the built-in operations only: a registered one rides along)
      const withFailure = { ...input, accountsPerRun: 3, noop: { note: 'hello', failAccounts: ['910000000004'] } };
      const report = await temporal.client.workflow.execute(fleetCampaign, {
        taskQueue: TASK_QUEUE,
        workflowId: campaignId,
        args: [withFailure],
      });
      expect(report.phase).toBe('completed');
      expect(report.operation).toBe('noop');
      expect(report.target).toBe('hello');
      expect(report.total).toBe(ACCOUNTS);
      expect(report.counts).toEqual({ touched: ACCOUNTS - 1, failed: 1 });
      expect(report.problems.map((p) => [p.accountId, p.state, p.reason])).toEqual([
        ['910000000004', 'failed', 'asked to fail'],
      ]);
      expect(report.run).toBeGreaterThan(1); // continue-as-new carried the operation's parameters
      // Every account touched exactly once, by the noop activity reading the fleet file.
      const mine = touches.filter((t) => t.accountId.startsWith('91000000000'));
      expect(mine).toHaveLength(ACCOUNTS);
      expect(new Set(mine.map((t) => t.accountId)).size).toBe(ACCOUNTS);
      // Children are accountNoop workflows, searchable by operation.
      const children: string[] = [];
      for await (const wf of temporal.client.workflow.list({
        query: `FleetCampaignId = '${campaignId}' AND WorkflowType = 'accountNoop'`,
      })) {
        expect(wf.typedSearchAttributes.get(FLEET_OPERATION)).toBe('noop');
        expect(wf.typedSearchAttributes.get(FLEET_CAMPAIGN_ID)).toBe(campaignId);
        children.push(`${wf.workflowId}=${wf.typedSearchAttributes.get(FLEET_STATE)}`);
      }
      expect(children.sort()).toEqual(
        simulatedFleet(ACCOUNTS, { idBase: 910_000_000_000 })
          .map((a) => `${campaignId}/${a.id}=${a.id === '910000000004' ? 'failed' : 'touched'}`)
          .sort(),
      );
    },
  );

  it('refuses the other operations parameters and a missing one, naming the field', () => {
    expect(() =>
      campaignInputFromFlags({ operation: 'noop', fleet: fleetFile, note: 'x', version: '1.2.3' }, new Date()),
    ).toThrow('--version: applies to --operation upgrade');
    expect(() => campaignInputFromFlags({ operation: 'noop', fleet: fleetFile }, new Date())).toThrow(
      '--note: required with --operation noop',
    );
  });
});
