/**
 * The fault plan: which requests get throttled, fail with 5xx or are delayed, plus the optional
 * `cloudformation` section (simulated CloudFormation behaviours, see cloudformation/cloudformation-faults.ts),
 * `iam` section (new access keys that take a while to work, trust-policy updates that do not take, see
 * iam/iam-faults.ts), `secretsmanager` section (stale version reads) and `autoscaling` section (instance
 * refreshes: speed, poisoned images, alarms, failed rollbacks, see autoscaling/autoscaling-faults.ts).
 * Validation (zod), rule matching and the seeded decision are pure functions.
 */
import { z } from 'zod';
import { autoScalingPlanSchema } from '../autoscaling/autoscaling-faults';
import { cloudFormationPlanSchema } from '../cloudformation/cloudformation-faults';
import { iamPlanSchema } from '../iam/iam-faults';
import { secretsManagerPlanSchema } from '../secretsmanager/secretsmanager-faults';
import type { RequestInfo } from './request-info';

const rate = z.number().min(0).max(1);

export const faultRuleSchema = z
  .object({
    service: z.string().min(1).optional(),
    actions: z.array(z.string().min(1)).min(1).optional(),
    accounts: z
      .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
      .min(1)
      .optional(),
    throttleRate: rate.optional(),
    serverErrorRate: rate.optional(),
    latencyMs: z.number().int().min(0).max(300_000).optional(),
    latencyRate: rate.optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.latencyRate !== undefined && rule.latencyMs === undefined) {
      ctx.addIssue({ code: 'custom', path: ['latencyRate'], message: 'latencyRate needs latencyMs' });
    }
    if (rule.throttleRate === undefined && rule.serverErrorRate === undefined && rule.latencyMs === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'rule has no effect: set throttleRate, serverErrorRate or latencyMs',
      });
    }
  });

export const faultPlanSchema = z
  .object({
    seed: z.number().int().optional(),
    rules: z.array(faultRuleSchema).default([]),
    /** CloudFormation behaviours moto lacks (see cloudformation/cloudformation-faults.ts). */
    cloudformation: cloudFormationPlanSchema.optional(),
    /** IAM behaviours moto lacks: new keys not yet valid, trust-policy updates not applied (see iam/iam-faults.ts). */
    iam: iamPlanSchema.optional(),
    /** Secrets Manager stale reads for chosen accounts (see secretsmanager/secretsmanager-faults.ts). */
    secretsmanager: secretsManagerPlanSchema.optional(),
    /** Instance refresh behaviours moto lacks (see autoscaling/autoscaling-faults.ts). */
    autoscaling: autoScalingPlanSchema.optional(),
  })
  .strict();

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultPlan = z.infer<typeof faultPlanSchema>;

export const EMPTY_FAULT_PLAN: FaultPlan = { rules: [] };
export const DEFAULT_SEED = 1;

export type ParsedFaultPlan = { ok: true; plan: FaultPlan } | { ok: false; message: string };

/** Validates a plan; on failure the message names each bad field (`z.prettifyError`). */
export function parseFaultPlan(input: unknown): ParsedFaultPlan {
  const result = faultPlanSchema.safeParse(input);
  if (result.success) return { ok: true, plan: result.data };
  return { ok: false, message: `invalid fault plan:\n${z.prettifyError(result.error)}` };
}

/** Seeded PRNG (mulberry32): returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rule service names may use the console name; requests carry the SigV4 signing name. */
const SERVICE_ALIASES: Record<string, string> = {
  cloudwatch: 'monitoring',
  'auto-scaling': 'autoscaling',
  elb: 'elasticloadbalancing',
};

function normaliseService(service: string): string {
  const lower = service.toLowerCase();
  return SERVICE_ALIASES[lower] ?? lower;
}

export function ruleMatches(rule: FaultRule, info: Pick<RequestInfo, 'service' | 'action' | 'account'>): boolean {
  if (rule.service !== undefined && normaliseService(rule.service) !== normaliseService(info.service)) return false;
  if (rule.actions !== undefined && !rule.actions.includes(info.action)) return false;
  if (rule.accounts !== undefined && !rule.accounts.includes(info.account)) return false;
  return true;
}

export interface FaultDecision {
  /** Delay before the request is answered or forwarded (sum over matching rules). */
  latencyMs: number;
  /** Error to answer with instead of forwarding; the first matching rule that fires wins. */
  error?: 'throttle' | 'serverError';
}

/**
 * Decides the faults for one request. Each matching rule draws from `rng` once per rate it sets
 * (in rule order, latency then throttle then server error), so a seeded run is reproducible.
 */
export function decideFault(
  plan: FaultPlan,
  info: Pick<RequestInfo, 'service' | 'action' | 'account'>,
  rng: () => number,
): FaultDecision {
  const decision: FaultDecision = { latencyMs: 0 };
  for (const rule of plan.rules) {
    if (!ruleMatches(rule, info)) continue;
    if (rule.latencyMs !== undefined && rng() < (rule.latencyRate ?? 1)) decision.latencyMs += rule.latencyMs;
    if (decision.error) continue;
    if (rule.throttleRate !== undefined && rng() < rule.throttleRate) decision.error = 'throttle';
    else if (rule.serverErrorRate !== undefined && rng() < rule.serverErrorRate) decision.error = 'serverError';
  }
  return decision;
}
