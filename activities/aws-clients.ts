import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';

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

  cloudFormation(region: string, credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider): CloudFormationClient {
    return new CloudFormationClient({ ...this.common(region), credentials });
  }

  cloudWatch(region: string, credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider): CloudWatchClient {
    return new CloudWatchClient({ ...this.common(region), credentials });
  }

  destroy(): void {
    this.handler.destroy();
  }
}
