/**
 * Runs every cleanup step even when an earlier one throws (a worker that fails to stop must not leave
 * the fault plan set or the connection open), then rethrows what failed: the one error, or an
 * AggregateError naming each failed step.
 */
export async function cleanUp(steps: Record<string, () => unknown>): Promise<void> {
  const errors: Error[] = [];
  for (const [name, step] of Object.entries(steps)) {
    try {
      await step();
    } catch (err) {
      errors.push(
        new Error(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }),
      );
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => e.message).join('; '));
}
