import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** The per-account clients kept in the LRU. */
type AccountClient =
  | CloudFormationClient
  | CloudWatchClient
  | SecretsManagerClient
  | IAMClient
  | EC2Client
  | AutoScalingClient
  | KMSClient;

export type AwsClientConfig = {
  /** Custom endpoint (the local stack's AWS proxy); unset for real AWS. */
  endpoint?: string;
  /** Region for STS calls made with fleetops' own credentials. */
  homeRegion: string;
  /** Open sockets per host: the SDK default (50) is enough for one worker's budgets. */
  maxSockets?: number;
};

/**
 * Builds AWS SDK v3 clients sharing one connection pool. SDK retries are off (`maxAttempts: 1`):
 * every attempt goes through fleetops' rate budgets and retry policy instead (see aws-call.ts).
 */
export class AwsClients {
  private readonly handler: NodeHttpHandler;
  /** Recently used per-account clients (LRU): an account's calls reuse one client instead of building one per call. */
  private readonly recent = new Map<string, AccountClient>();
  private static readonly RECENT_MAX = 256;

  constructor(private readonly cfg: AwsClientConfig) {
    const maxSockets = cfg.maxSockets ?? 64;
    this.handler = new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      connectionTimeout: 5000,
      requestTimeout: 30_000,
    });
  }

  private common(region: string) {
    return {
      region,
      maxAttempts: 1,
      requestHandler: this.handler,
      ...(this.cfg.endpoint ? { endpoint: this.cfg.endpoint } : {}),
    };
  }

  /** STS with fleetops' own credentials (default provider chain). */
  sts(): STSClient {
    return new STSClient(this.common(this.cfg.homeRegion));
  }

  /** `cacheKey` names whose credentials these are (e.g. account/run): the same key reuses the client. */
  cloudFormation(
    region: string,
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    cacheKey?: string,
  ): CloudFormationClient {
    return this.reuse(
      `cfn:${region}:${cacheKey}`,
      cacheKey,
      () => new CloudFormationClient({ ...this.common(region), credentials }),
    );
  }

  cloudWatch(
    region: string,
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    cacheKey?: string,
  ): CloudWatchClient {
    return this.reuse(
      `cw:${region}:${cacheKey}`,
      cacheKey,
      () => new CloudWatchClient({ ...this.common(region), credentials }),
    );
  }

  secretsManager(
    region: string,
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    cacheKey?: string,
  ): SecretsManagerClient {
    return this.reuse(
      `sm:${region}:${cacheKey}`,
      cacheKey,
      () => new SecretsManagerClient({ ...this.common(region), credentials }),
    );
  }

  ec2(
    region: string,
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    cacheKey?: string,
  ): EC2Client {
    return this.reuse(
      `ec2:${region}:${cacheKey}`,
      cacheKey,
      () => new EC2Client({ ...this.common(region), credentials }),
    );
  }

  autoScaling(
    region: string,
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    cacheKey?: string,
  ): AutoScalingClient {
    return this.reuse(
      `asg:${region}:${cacheKey}`,
      cacheKey,
      () => new AutoScalingClient({ ...this.common(region), credentials }),
    );
  }

  kms(
    region: string,
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    cacheKey?: string,
  ): KMSClient {
    return this.reuse(
      `kms:${region}:${cacheKey}`,
      cacheKey,
      () => new KMSClient({ ...this.common(region), credentials }),
    );
  }

  /** IAM (a global service, signed for us-east-1) acting in an account. */
  iam(credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider, cacheKey?: string): IAMClient {
    return this.reuse(`iam:${cacheKey}`, cacheKey, () => new IAMClient({ ...this.common('us-east-1'), credentials }));
  }

  /** STS signed with the given credentials (e.g. a freshly created access key), never cached. */
  stsAs(credentials: AwsCredentialIdentity): STSClient {
    return new STSClient({ ...this.common(this.cfg.homeRegion), credentials });
  }

  private reuse<C extends AccountClient>(key: string, cacheKey: string | undefined, build: () => C): C {
    if (cacheKey === undefined) return build();
    const hit = this.recent.get(key) as C | undefined;
    if (hit) {
      this.recent.delete(key);
      this.recent.set(key, hit);
      return hit;
    }
    const client = build();
    this.recent.set(key, client);
    if (this.recent.size > AwsClients.RECENT_MAX) this.recent.delete(this.recent.keys().next().value as string);
    return client;
  }

  destroy(): void {
    this.handler.destroy();
  }
}
