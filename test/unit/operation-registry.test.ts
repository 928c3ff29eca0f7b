import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { campaignInputSchema } from '../../workflows/campaign/campaign-input';
import { COMMON_OUTCOMES } from '../../workflows/operation/account-operation';
import { OperationRegistry, type AnyOperation } from '../../workflows/operation/operation-registry';
import { operations } from '../../workflows/operations';
import * as workflows from '../../workflows';
import { operationActivities } from '../../worker/operation-activities';
import { noopOperation } from '../support/noop-operation/noop-operation';

const root = path.resolve(__dirname, '../..');

/** What a registered operation must have to run from the engine, the worker and the CLI. */
function operationProblems(op: AnyOperation, exported: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const wf = op.childWorkflow?.name;
  if (!wf || exported[wf] !== op.childWorkflow) problems.push(`${op.name}: child workflow not exported by workflows/`);
  if (!operationActivities.has(op.name)) problems.push(`${op.name}: no activities in worker/operation-activities.ts`);
  if (!op.cliFlags.length) problems.push(`${op.name}: no CLI flags`);
  if (!op.cliFlags.some((f) => f.required)) problems.push(`${op.name}: no required CLI flag (names the campaign id)`);
  const runbooks = Object.values(op.runbooks);
  if (!runbooks.length) problems.push(`${op.name}: no runbooks`);
  for (const rb of runbooks) if (!fs.existsSync(path.join(root, rb!))) problems.push(`${op.name}: ${rb} is missing`);
  if (op.doneOutcome in COMMON_OUTCOMES) problems.push(`${op.name}: done outcome ${op.doneOutcome} is a common one`);
  if (op.preflight) {
    const factory = operationActivities.get(op.name);
    const names = factory ? Object.keys(factory({} as never)) : [];
    if (!names.includes(op.preflight))
      problems.push(`${op.name}: preflight ${op.preflight} is not one of its activities`);
  }
  return problems;
}

describe('the operation registry', () => {
  it('every registered operation has its child workflow, activities, CLI flags and runbooks', () => {
    expect(operations.names()).toEqual(expect.arrayContaining(['upgrade', 'rotate-secret', 'ami-rollout']));
    for (const op of operations.all()) expect(operationProblems(op, workflows), op.name).toEqual([]);
  });

  it('the check fails an operation that lacks any of them', () => {
    const broken: AnyOperation = {
      ...noopOperation,
      name: 'broken',
      cliFlags: [],
      runbooks: { X: 'docs/runbooks/nope.md' },
      preflight: 'nope',
    };
    expect(operationProblems(broken, workflows)).toEqual([
      'broken: child workflow not exported by workflows/',
      'broken: no activities in worker/operation-activities.ts',
      'broken: no CLI flags',
      'broken: no required CLI flag (names the campaign id)',
      'broken: docs/runbooks/nope.md is missing',
      'broken: preflight nope is not one of its activities',
    ]);
  });

  it('every runbook the code points operators at exists, with the section it names', () => {
    const dirs = ['workflows', 'activities', 'cli', 'worker', 'fleet'];
    const out = execFileSync(
      'grep',
      ['-rhoE', 'docs/runbooks/[a-z0-9-]+\\.md(#[a-z0-9-]+)?', '--include=*.ts', ...dirs],
      {
        cwd: root,
      },
    );
    const referenced = [...new Set(out.toString().split('\n').filter(Boolean))];
    expect(referenced.length).toBeGreaterThan(5);
    const files = referenced.map((rb) => rb.split('#')[0]);
    expect(files.filter((file) => !fs.existsSync(path.join(root, file)))).toEqual([]);
    // a section is named by its heading's anchor, as GitHub makes it (lower case, spaces to dashes)
    const anchor = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-');
    const sections = referenced.filter((rb) => rb.includes('#'));
    expect(sections.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const rb of sections) {
      const [file, section] = rb.split('#');
      const headings = fs
        .readFileSync(path.join(root, file), 'utf8')
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => anchor(line.replace(/^#+ /, '')));
      if (!headings.includes(section)) missing.push(rb);
    }
    expect(missing).toEqual([]);
  });

  it('refuses a second operation with the same name, a taken parameters field, or a campaign field', () => {
    const r = new OperationRegistry([noopOperation]);
    expect(() => r.register(noopOperation)).toThrow('operation "noop" is already registered');
    expect(() => r.register({ ...noopOperation, name: 'noop2' })).toThrow('parameters field "noop" is taken by "noop"');
    expect(() => r.register({ ...noopOperation, name: 'noop3', paramsField: 'select' })).toThrow(
      'parameters field "select" is a campaign input field',
    );
    expect(() => r.get('nope')).toThrow('unknown operation "nope"; registered: noop');
  });

  it("the campaign input takes the chosen operation's parameters, names a missing one and refuses another's", () => {
    const r = new OperationRegistry([...operations.all(), noopOperation]);
    const schema = campaignInputSchema(r);
    const base = { fleetFile: '/srv/fleet.yaml' };
    expect(schema.safeParse({ ...base, operation: 'noop', noop: { note: 'x' } }).success).toBe(true);
    const issues = (v: unknown) => {
      const p = schema.safeParse(v);
      return p.success ? [] : p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ ...base, operation: 'noop' })).toEqual(['noop: operation "noop" needs noop: { note: … }']);
    expect(issues({ ...base, operation: 'noop', noop: { note: 'x' }, upgrade: { targetVersion: '1.0.0' } })).toEqual([
      'upgrade: applies to operation "upgrade" only, not "noop"',
    ]);
    expect(issues({ ...base, operation: 'rotate' })[0]).toMatch(
      /^operation: Invalid option: expected one of "upgrade"\|"rotate-secret"\|"ami-rollout"\|"noop"/,
    );
  });
});
