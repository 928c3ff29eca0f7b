import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import path from 'node:path';

describe('lint keeps workflows deterministic', () => {
  it('rejects Node built-ins, activity values and timers in workflows/, and floating promises anywhere', async () => {
    const eslint = new ESLint({ cwd: path.resolve(__dirname, '../..') });
    const code = [
      "import fs from 'node:fs';",
      "import { createInventoryActivities } from '../activities/inventory-activities';",
      'export async function wf(): Promise<void> { setTimeout(() => undefined, 1); Promise.resolve(fs); void createInventoryActivities; }',
    ].join('\n');
    const [result] = await eslint.lintText(code, {
      filePath: path.resolve(__dirname, '../../workflows/fleet-inventory.ts'),
    });
    const rules = result.messages.map((m) => m.ruleId);
    expect(rules.filter((r) => r === 'no-restricted-imports')).toHaveLength(2);
    expect(rules).toContain('no-restricted-globals');
    expect(rules).toContain('@typescript-eslint/no-floating-promises');
  });
});
