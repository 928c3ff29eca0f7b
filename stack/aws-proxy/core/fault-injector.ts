/**
 * Holds the current fault plan (persisted at `${stateDir}/fault-plan.json`) and its seeded PRNG,
 * and turns decisions into concrete AWS error kinds (server errors alternate 500 / 503).
 */
import * as path from 'node:path';
import type { AwsErrorKind } from './aws-errors';
import {
  DEFAULT_SEED,
  EMPTY_FAULT_PLAN,
  decideFault,
  mulberry32,
  parseFaultPlan,
  type FaultPlan,
  type ParsedFaultPlan,
} from './fault-plan';
import { readJsonFile, removeFile, writeJsonFile } from './json-state-file';
import type { RequestInfo } from './request-info';

export interface InjectedFault {
  latencyMs: number;
  error?: AwsErrorKind;
}

export class FaultInjector {
  private current: FaultPlan = EMPTY_FAULT_PLAN;
  private rng: () => number = mulberry32(DEFAULT_SEED);
  private serverErrors = 0;
  private setAt = Date.now();
  private readonly file: string | undefined;

  constructor(stateDir?: string) {
    this.file = stateDir ? path.join(stateDir, 'fault-plan.json') : undefined;
    if (this.file) {
      const stored = readJsonFile(this.file);
      if (stored !== undefined) {
        const parsed = parseFaultPlan(stored);
        if (!parsed.ok) throw new Error(`${this.file}: ${parsed.message}`);
        this.install(parsed.plan);
      }
    }
  }

  get plan(): FaultPlan {
    return this.current;
  }

  /** When the current plan was installed (epoch ms); time-limited plan effects count from here. */
  get installedAt(): number {
    return this.setAt;
  }

  /** Validates and installs a new plan (re-seeding the PRNG); an invalid plan leaves the current one. */
  replace(input: unknown): ParsedFaultPlan {
    const parsed = parseFaultPlan(input);
    if (parsed.ok) {
      this.install(parsed.plan);
      if (this.file) writeJsonFile(this.file, parsed.plan);
    }
    return parsed;
  }

  clear(): void {
    this.install(EMPTY_FAULT_PLAN);
    if (this.file) removeFile(this.file);
  }

  decide(info: Pick<RequestInfo, 'service' | 'action' | 'account'>): InjectedFault {
    if (this.current.rules.length === 0) return { latencyMs: 0 };
    const decision = decideFault(this.current, info, this.rng);
    if (decision.error === 'throttle') return { latencyMs: decision.latencyMs, error: 'throttle' };
    if (decision.error === 'serverError') {
      const kind: AwsErrorKind = this.serverErrors++ % 2 === 0 ? 'internalFailure' : 'serviceUnavailable';
      return { latencyMs: decision.latencyMs, error: kind };
    }
    return { latencyMs: decision.latencyMs };
  }

  private install(plan: FaultPlan): void {
    this.current = plan;
    this.setAt = Date.now();
    this.rng = mulberry32(plan.seed ?? DEFAULT_SEED);
    this.serverErrors = 0;
  }
}
