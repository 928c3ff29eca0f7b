import { PIPELINE_VERSION_PARAMETER } from '../../fleet/pipeline-stack';

/**
 * The simulated customer pipeline stack: what every account in a simulated fleet runs. Its version
 * is the `PipelineVersion` parameter (read by inventory, moved by upgrade campaigns). Its health
 * alarm `<stack>-health` is created beside it by the seeder (moto's CloudFormation cannot create
 * AWS::CloudWatch::Alarm resources).
 */
export const PIPELINE_TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Description: 'fleetops simulated customer data pipeline',
  Parameters: { [PIPELINE_VERSION_PARAMETER]: { Type: 'String', Description: 'pipeline release (semver)' } },
  Resources: {
    PipelineVersionParameter: {
      Type: 'AWS::SSM::Parameter',
      Properties: {
        Name: { 'Fn::Sub': '/${AWS::StackName}/version' },
        Type: 'String',
        Value: { Ref: PIPELINE_VERSION_PARAMETER },
      },
    },
    /** Stateful: a release that would replace it needs an operator's approval. */
    StateTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: { 'Fn::Sub': '${AWS::StackName}-state' },
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      },
    },
  },
  Outputs: { [PIPELINE_VERSION_PARAMETER]: { Value: { Ref: PIPELINE_VERSION_PARAMETER } } },
});

/** The trust policy of a customer's execution role: fleetops' account may assume it with the ExternalId. */
export function executionRoleTrustPolicy(fleetopsAccountId: string, externalId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${fleetopsAccountId}:root` },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalId } },
      },
    ],
  });
}
