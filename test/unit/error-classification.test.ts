import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../activities/aws/errors';

const awsError = (name: string, status: number, message = 'msg') =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('classifyAwsError', () => {
  const ctx = { accountId: '111111111111', region: 'eu-west-1', api: 'sts:AssumeRole' };
  it.each([
    ['Throttling', 400, 'AwsThrottled', true],
    ['RequestLimitExceeded', 503, 'AwsThrottled', true],
    ['ThrottlingException', 400, 'AwsThrottled', true],
    ['InternalFailure', 500, 'AwsUnavailable', true],
    ['ServiceUnavailable', 503, 'AwsUnavailable', true],
    ['ValidationError', 400, 'AwsRequestRejected', false],
  ])('%s (HTTP %i) → %s, retryable %s', (name, status, type, retryable) => {
    const e = classifyAwsError(awsError(name, status), ctx);
    expect(e.name).toBe(type);
    expect(e.retryable).toBe(retryable);
    expect(e.context).toMatchObject({ accountId: '111111111111', awsCode: name, httpStatus: status });
  });

  it('access denied while assuming the role is AccountAccessDenied, never retried, naming the account', () => {
    const e = classifyAwsError(awsError('AccessDenied', 403, 'not authorized to perform: sts:AssumeRole'), {
      ...ctx,
      assumingRole: true,
    });
    expect(e.name).toBe('AccountAccessDenied');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('account 111111111111');
    const failure = e.toFailure();
    expect(failure.type).toBe('AccountAccessDenied');
    expect(failure.nonRetryable).toBe(true);
  });

  it('connection errors are retryable', () => {
    const e = classifyAwsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), ctx);
    expect(e.name).toBe('AwsUnavailable');
    expect(e.retryable).toBe(true);
  });
});
