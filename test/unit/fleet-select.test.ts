import { describe, expect, it } from 'vitest';
import { AccountSelectorSchema, selectAccounts, type FleetAccount } from '../../fleet';

const acct = (id: string, over: Partial<FleetAccount> = {}): FleetAccount => ({
  id,
  customer: `c${id}`,
  ring: 'general',
  regions: ['eu-west-1'],
  roleArn: `arn:aws:iam::${id}:role/R`,
  externalIdRef: `secret/data/x/${id}`,
  pipeline: { stackName: 's', version: '1.0.0' },
  tags: {},
  state: 'active',
  ...over,
});

const FLEET: FleetAccount[] = [
  acct('000000000001', { ring: 'canary', tags: { tier: 'enterprise' } }),
  acct('000000000002', { ring: 'early', regions: ['us-east-1'], tags: { tier: 'standard' } }),
  acct('000000000003', { state: 'paused', tags: { tier: 'enterprise' } }),
  acct('000000000004', { state: 'quarantined', reason: 'AccessDenied on AssumeRole' }),
  acct('000000000005', { ring: 'late', regions: ['eu-west-1', 'us-east-1'], tags: { tier: 'enterprise', team: 'a' } }),
];
const ids = (accounts: FleetAccount[]) => accounts.map((a) => a.id.slice(-1));

describe('selectAccounts', () => {
  it('selects every active account for an empty selector and reports the others as skipped', () => {
    const r = selectAccounts(FLEET, {});
    expect(ids(r.selected)).toEqual(['1', '2', '5']);
    expect(r.skipped).toEqual([
      { id: '000000000003', reason: 'paused' },
      { id: '000000000004', reason: 'quarantined: AccessDenied on AssumeRole' },
    ]);
    expect(r.unknownIds).toEqual([]);
  });

  it('filters by ids, keeps fleet order and reports unknown ids', () => {
    const r = selectAccounts(FLEET, { ids: ['000000000005', '999999999999', '000000000001', '999999999999'] });
    expect(ids(r.selected)).toEqual(['1', '5']);
    expect(r.unknownIds).toEqual(['999999999999']);
    expect(r.skipped).toEqual([]);
  });

  it('filters by rings, all tags and any region', () => {
    expect(ids(selectAccounts(FLEET, { rings: ['canary', 'late'] }).selected)).toEqual(['1', '5']);
    expect(ids(selectAccounts(FLEET, { tags: { tier: 'enterprise' } }).selected)).toEqual(['1', '5']);
    expect(ids(selectAccounts(FLEET, { tags: { tier: 'enterprise', team: 'a' } }).selected)).toEqual(['5']);
    expect(ids(selectAccounts(FLEET, { regions: ['us-east-1'] }).selected)).toEqual(['2', '5']);
    expect(ids(selectAccounts(FLEET, { regions: ['us-east-1'], rings: ['early'] }).selected)).toEqual(['2']);
  });

  it('reports skipped only among accounts matching the other filters', () => {
    const r = selectAccounts(FLEET, { tags: { tier: 'enterprise' } });
    expect(r.skipped).toEqual([{ id: '000000000003', reason: 'paused' }]);
  });

  it('includeStates widens the selection', () => {
    const r = selectAccounts(FLEET, { includeStates: ['active', 'paused'] });
    expect(ids(r.selected)).toEqual(['1', '2', '3', '5']);
    expect(r.skipped.map((s) => s.id)).toEqual(['000000000004']);
  });

  it('schema: strict, non-empty lists, valid ids and regions, default includeStates', () => {
    expect(AccountSelectorSchema.parse({})).toEqual({ includeStates: ['active'] });
    for (const bad of [
      { ring: ['canary'] },
      { rings: [] },
      { ids: ['123'] },
      { regions: ['eu-west-9'] },
      { rings: ['beta'] },
    ]) {
      expect(AccountSelectorSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
