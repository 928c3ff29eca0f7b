/** The answer AWS gives a request signed with an access key it does not accept (inactive, deleted, not yet valid). */
import { renderServiceError, type AwsErrorResponse } from '../core/aws-errors';
import type { AwsProtocol } from '../core/request-info';

const INVALID_TOKEN = 'The security token included in the request is invalid.';

/** Per protocol: STS/IAM/CloudFormation `InvalidClientTokenId` 403, JSON services `UnrecognizedClientException` 400, EC2 `AuthFailure` 401, S3 `InvalidAccessKeyId` 403. */
export function renderInvalidCredentials(service: string, protocol: AwsProtocol): AwsErrorResponse {
  const opts = { protocol };
  if (service === 'ec2')
    return renderServiceError(
      service,
      {
        status: 401,
        type: 'Sender',
        code: 'AuthFailure',
        message: 'AWS was not able to validate the provided access credentials',
      },
      opts,
    );
  if (service === 's3')
    return renderServiceError(
      service,
      {
        status: 403,
        type: 'Sender',
        code: 'InvalidAccessKeyId',
        message: 'The AWS Access Key Id you provided does not exist in our records.',
      },
      opts,
    );
  if (protocol === 'query' || service === 'monitoring')
    return renderServiceError(
      service,
      { status: 403, type: 'Sender', code: 'InvalidClientTokenId', message: INVALID_TOKEN },
      opts,
    );
  return renderServiceError(
    service,
    { status: 400, type: 'Sender', code: 'UnrecognizedClientException', message: INVALID_TOKEN },
    opts,
  );
}
