/**
 * Valid AWS region names, per partition (hard-coded: the fleet file is validated offline and in
 * workflow code, so no API call). Add a region here when AWS opens one.
 */
export const AWS_REGIONS_BY_PARTITION = {
  aws: [
    'af-south-1',
    'ap-east-1',
    'ap-east-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-south-1',
    'ap-south-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-6',
    'ap-southeast-7',
    'ca-central-1',
    'ca-west-1',
    'eu-central-1',
    'eu-central-2',
    'eu-north-1',
    'eu-south-1',
    'eu-south-2',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'il-central-1',
    'me-central-1',
    'me-south-1',
    'mx-central-1',
    'sa-east-1',
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
  ],
  'aws-us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
} as const;

export type AwsPartition = keyof typeof AWS_REGIONS_BY_PARTITION;
export type AwsRegion = (typeof AWS_REGIONS_BY_PARTITION)[AwsPartition][number];

export const AWS_REGIONS: readonly AwsRegion[] = Object.values(AWS_REGIONS_BY_PARTITION).flat();

const PARTITION_OF_REGION: ReadonlyMap<string, AwsPartition> = new Map(
  (Object.keys(AWS_REGIONS_BY_PARTITION) as AwsPartition[]).flatMap((partition) =>
    AWS_REGIONS_BY_PARTITION[partition].map((region) => [region, partition] as const),
  ),
);

export function isAwsRegion(name: string): name is AwsRegion {
  return PARTITION_OF_REGION.has(name);
}

/** The partition a region belongs to (`aws`, `aws-us-gov`, `aws-cn`), or undefined for an unknown name. */
export function partitionOfRegion(name: string): AwsPartition | undefined {
  return PARTITION_OF_REGION.get(name);
}
