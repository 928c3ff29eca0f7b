import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { log, setHandler } from '@temporalio/workflow';
import { operations } from '../operations';
import { parseWorkflowInput } from '../workflow-input';
import { accountLeaseWaitSignal } from '../lease/lease-messages';
import { CampaignControls } from './campaign-controls';
import { CampaignEngine } from './campaign-engine';
import { campaignInputSchema, type FleetCampaignInput, type FleetCampaignOptions } from './campaign-input';
import {
  accountAwaitingApprovalSignal,
  approveSignal,
  approveUpdate,
  cancelSignal,
  cancelUpdate,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  retryAccountSignal,
  retryAccountUpdate,
  skipAccountSignal,
  skipAccountUpdate,
  statusQuery,
  type CampaignStatus,
} from './campaign-messages';
import type { CampaignReport } from './campaign-status';

export type { CampaignReport } from './campaign-status';

/**
 * The campaign workflow: validates its one JSON input, registers the operator's messages (each an
 * update with a validator and a signal of the same name for the Temporal UI) and the `status` query,
 * then runs the engine for the registered operation the input names.
 */
export async function fleetCampaign(rawInput: FleetCampaignInput): Promise<CampaignReport> {
  const input = parseWorkflowInput('fleetCampaign', campaignInputSchema(operations), rawInput) as FleetCampaignOptions;
  const engine = new CampaignEngine(input, rawInput, operations.get(input.operation));
  const controls = new CampaignControls(engine);
  // Handlers are registered before planning, so status queries and control work from the first moment.
  const control = <A extends unknown[]>(
    update: UpdateDefinition<CampaignStatus, A>,
    signal: SignalDefinition<A>,
    validate: (...a: A) => void,
    apply: (...a: A) => unknown,
  ) => {
    setHandler(
      update,
      async (...a: A) => {
        await apply(...a);
        engine.touch();
        return engine.status();
      },
      { validator: validate },
    );
    setHandler(signal, async (...a: A) => {
      try {
        validate(...a);
      } catch (err) {
        log.warn(`signal ${signal.name} ignored: ${(err as Error).message}`);
        return;
      }
      await apply(...a);
      engine.touch();
    });
  };
  const c = controls;
  control(
    pauseUpdate,
    pauseSignal,
    (r) => c.validatePause(r),
    (r) => c.pause(r),
  );
  control(
    resumeUpdate,
    resumeSignal,
    () => c.validateResume(),
    () => c.resume(),
  );
  control(
    cancelUpdate,
    cancelSignal,
    (r) => c.validateCancel(r),
    (r) => c.cancel(r),
  );
  control(
    approveUpdate,
    approveSignal,
    (r) => c.validateApprove(r),
    (r) => c.approve(r),
  );
  control(
    retryAccountUpdate,
    retryAccountSignal,
    (r) => c.validateRetryAccount(r),
    (r) => c.retryAccount(r),
  );
  control(
    skipAccountUpdate,
    skipAccountSignal,
    (r) => c.validateSkipAccount(r),
    (r) => c.skipAccount(r),
  );
  setHandler(accountAwaitingApprovalSignal, (notice) => c.accountAwaitingApproval(notice));
  setHandler(accountLeaseWaitSignal, (notice) => {
    c.accountLeaseWait(notice);
    engine.publishDetails();
  });
  setHandler(statusQuery, () => engine.status());
  return engine.run();
}
