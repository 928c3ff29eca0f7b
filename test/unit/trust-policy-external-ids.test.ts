import { describe, expect, it } from 'vitest';
import { TrustPolicyExternalIds } from '../../activities/rotation/trust-policy-external-ids';
import { ErrorType } from '../../fleet/error-types';

const ROLE = 'arn:aws:iam::111111111111:role/R';
const policy = (condition: unknown, extra: object = {}) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:root' },
        Action: 'sts:AssumeRole',
        Condition: condition,
        ...extra,
      },
    ],
  });
const refused = (text: string) => {
  try {
    new TrustPolicyExternalIds(text, ROLE);
  } catch (err) {
    return err as Error;
  }
  return undefined;
};

describe('TrustPolicyExternalIds', () => {
  it('adds a second id beside the first, and removes the old one afterwards (a string again)', () => {
    const p = new TrustPolicyExternalIds(policy({ StringEquals: { 'sts:ExternalId': 'old-id' } }), ROLE);
    expect(p.accepted()).toEqual(['old-id']);
    expect(p.add('new-id')).toBe(true);
    expect(p.add('new-id')).toBe(false);
    expect(p.accepts('old-id') && p.accepts('new-id')).toBe(true);
    expect(JSON.parse(p.toJson()).Statement[0].Condition.StringEquals['sts:ExternalId']).toEqual(['old-id', 'new-id']);
    expect(p.remove('old-id')).toBe(true);
    expect(p.remove('old-id')).toBe(false);
    const after = JSON.parse(p.toJson()).Statement[0];
    expect(after.Condition.StringEquals['sts:ExternalId']).toBe('new-id');
    expect(after.Principal).toEqual({ AWS: 'arn:aws:iam::123456789012:root' });
  });

  it('keeps the key as spelled and other condition keys as they are', () => {
    const p = new TrustPolicyExternalIds(
      policy({ StringEquals: { 'STS:EXTERNALID': 'a', 'aws:PrincipalTag/team': 'x' } }),
      ROLE,
    );
    p.add('b');
    expect(JSON.parse(p.toJson()).Statement[0].Condition.StringEquals).toEqual({
      'STS:EXTERNALID': ['a', 'b'],
      'aws:PrincipalTag/team': 'x',
    });
  });

  it('never removes the last id a statement accepts (that would lock fleetops out)', () => {
    const p = new TrustPolicyExternalIds(policy({ StringEquals: { 'sts:ExternalId': 'only-id' } }), ROLE);
    expect(() => p.remove('only-id')).toThrow(/would leave a statement accepting none/);
    expect(p.accepted()).toEqual(['only-id']);
  });

  it('refuses forms it cannot edit safely, naming the role and the operator but never an id', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /the document is not JSON/],
      [policy(undefined), /no Allow statement for sts:AssumeRole has a StringEquals condition on sts:ExternalId/],
      [policy({ StringLike: { 'sts:ExternalId': 'secret-like-*' } }), /tests sts:ExternalId with StringLike/],
      [policy({ StringEquals: { 'sts:ExternalId': 'deny-id' } }, { Effect: 'Deny' }), /\(Effect Deny\)/],
      [
        policy({ StringEquals: { 'sts:ExternalId': 'other-action-id' } }, { Action: 's3:GetObject' }),
        /\(Effect Allow\)/,
      ],
    ];
    for (const [text, why] of cases) {
      const err = refused(text);
      expect(err?.name).toBe(ErrorType.TrustPolicyUnsupported);
      expect(err?.message).toMatch(why);
      expect(err?.message).toContain(ROLE);
      expect(err?.message).not.toMatch(/secret-like|deny-id|other-action-id/);
    }
  });
});
