import { describe, expect, it } from 'vitest';
import { signPost } from '../../cli/sim/secrets-manager-json';

// From the AWS Signature Version 4 test suite (aws-sig-v4-test-suite: post-vanilla, post-x-www-form-urlencoded).
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const URL_ = new URL('https://example.amazonaws.com/');
const SCOPE = { region: 'us-east-1', service: 'service' };
const AT = new Date('2015-08-30T12:36:00Z');

describe('signPost (SigV4 for the simulator’s Secrets Manager calls)', () => {
  it('matches the AWS test suite: post-vanilla', () => {
    const headers = signPost(URL_, SCOPE, {}, '', CREDENTIALS, AT);
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect('host' in headers).toBe(false);
  });

  it('matches the AWS test suite: post-x-www-form-urlencoded', () => {
    const headers = signPost(
      URL_,
      SCOPE,
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Param1=value1',
      CREDENTIALS,
      AT,
    );
    expect(headers.authorization).toMatch(
      /SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a$/,
    );
  });

  it('signs the session token', () => {
    const headers = signPost(URL_, SCOPE, {}, '', { ...CREDENTIALS, sessionToken: 'token' }, AT);
    expect(headers['x-amz-security-token']).toBe('token');
    expect(headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });
});
