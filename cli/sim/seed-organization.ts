/**
 * `sim seed --organization`: the simulated fleet as one AWS Organization with the customer accounts in
 * one OU, and the fleet file sharing release images with that OU (`defaults.imageSharing`) instead of
 * account by account. moto has no link between Organizations and EC2, so the AWS proxy is told which
 * organization and OU each account is in (`PUT /__fleetops/ec2/organizations`), which is what makes an
 * image shared with the OU visible from the accounts.
 */
import type { FleetAccount } from '../../fleet/fleet-schema';
import type { StackConfig } from '../../stack/stack-config';
import { SIM_IMAGE_ACCOUNT_ID } from './simulated-fleet';

/** The simulated organization (its management account: the image account) and the customer OU. */
export const SIM_ORGANIZATION_ARN = `arn:aws:organizations::${SIM_IMAGE_ACCOUNT_ID}:organization/o-fleetopssim`;
export const SIM_CUSTOMER_OU_ARN = `arn:aws:organizations::${SIM_IMAGE_ACCOUNT_ID}:ou/o-fleetopssim/ou-sim0-customers`;

/** The accounts with `imageSharing` set to the customer OU. */
export function sharingWithOu(accounts: readonly FleetAccount[]): FleetAccount[] {
  return accounts.map((a) => ({ ...a, imageSharing: { kind: 'organizational-unit', arn: SIM_CUSTOMER_OU_ARN } }));
}

/** Tells the AWS proxy every account is in the simulated organization's customer OU (1,000 per request). */
export async function seedOrganization(cfg: StackConfig, accounts: readonly FleetAccount[]): Promise<void> {
  for (let i = 0; i < accounts.length; i += 1000) {
    const res = await fetch(`${cfg.awsEndpoint}/__fleetops/ec2/organizations`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        accounts: accounts.slice(i, i + 1000).map((a) => ({
          accountId: a.id,
          organizationArn: SIM_ORGANIZATION_ARN,
          organizationalUnitArns: [SIM_CUSTOMER_OU_ARN],
        })),
      }),
    });
    if (!res.ok) throw new Error(`AWS proxy organizations update failed: HTTP ${res.status} ${await res.text()}`);
  }
}
