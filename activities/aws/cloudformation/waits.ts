import type { AccountAwsDeps, AccountRegion, PollHooks } from '../account-region';
import { CHANGE_SET_CREATING_STATUSES, describeChangeSet, type ChangeSetRef, type ChangeSetState } from './change-sets';
import { isStackBusy, readPipelineStack, type PipelineStackState } from './stack-reads';

/** How a wait polls: every `pollMs` (default 2 s), heartbeating and sleeping through `hooks`. */
export type PollOptions = { pollMs?: number; hooks?: PollHooks };

const DEFAULT_POLL_MS = 2000;
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Reads until `settled`, heartbeating `progress` of each read; returns the settled read. */
async function pollUntil<T>(
  opts: PollOptions,
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  progress: (value: T) => string,
): Promise<T> {
  const sleep = opts.hooks?.sleep ?? defaultSleep;
  for (;;) {
    const value = await read();
    opts.hooks?.heartbeat?.(progress(value));
    if (settled(value)) return value;
    await sleep(opts.pollMs ?? DEFAULT_POLL_MS);
  }
}

/** Waits until a change set is created (CREATE_COMPLETE) or has failed (FAILED), then describes it. */
export function waitForChangeSet(deps: AccountAwsDeps, req: ChangeSetRef & PollOptions): Promise<ChangeSetState> {
  return pollUntil(
    req,
    () => describeChangeSet(deps, req),
    (cs) => !cs.found || !CHANGE_SET_CREATING_STATUSES.includes(cs.status),
    (cs) => (cs.found ? cs.status : 'missing'),
  );
}

/** Waits until the stack leaves every *_IN_PROGRESS status; returns the settled stack (or a missing one). */
export function waitForStackStatus(
  deps: AccountAwsDeps,
  req: AccountRegion & PollOptions,
): Promise<PipelineStackState> {
  return pollUntil(
    req,
    () => readPipelineStack(deps, req),
    (stack) => !stack.found || !isStackBusy(stack.status),
    (stack) => (stack.found ? stack.status : 'missing'),
  );
}
