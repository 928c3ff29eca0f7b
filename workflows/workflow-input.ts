import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { ErrorType } from '../fleet/error-types';

/**
 * Validates a workflow's single JSON input object (as the Temporal UI's "Start Workflow" form sends
 * it). Invalid input fails the workflow at once, non-retryably, with every bad field listed.
 */
export function parseWorkflowInput<S extends z.ZodType>(workflowName: string, schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.create({
    type: ErrorType.InvalidWorkflowInput,
    nonRetryable: true,
    message: `invalid ${workflowName} input:\n${z.prettifyError(parsed.error)}`,
    details: [parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))],
  });
}
