/**
 * Which AWS Organization and organizational units each account belongs to, as far as the proxy knows
 * (moto has no link between Organizations and EC2). Set through `PUT /__fleetops/ec2/organizations`
 * (`sim seed` does it for a fleet file that shares images with an organization or OU); read when a
 * consumer account asks for images: a launch permission for an organization or OU makes the image
 * visible to every account in it (an OU: also to the accounts of the OUs below it, which AWS expresses
 * by listing every OU on the account's path — so list them all).
 */
import { z } from 'zod';

export const ORGANIZATION_ARN = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
export const ORGANIZATIONAL_UNIT_ARN =
  /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;

export const accountOrganizationsSchema = z.strictObject({
  accounts: z.array(
    z.strictObject({
      accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id'),
      organizationArn: z
        .string()
        .regex(ORGANIZATION_ARN, 'expected arn:aws:organizations::<management>:organization/o-…'),
      organizationalUnitArns: z
        .array(z.string().regex(ORGANIZATIONAL_UNIT_ARN, 'expected arn:aws:organizations::<management>:ou/o-…/ou-…'))
        .default([]),
    }),
  ),
});
export type AccountOrganizationsInput = z.input<typeof accountOrganizationsSchema>;
export type AccountOrganization = z.output<typeof accountOrganizationsSchema>['accounts'][number];

export class AccountOrganizations {
  private readonly byAccount = new Map<string, AccountOrganization>();

  /** Adds or replaces the entries of these accounts. */
  merge(entries: AccountOrganization[]): void {
    for (const e of entries) this.byAccount.set(e.accountId, e);
  }

  /** The organization and OU ARNs `accountId` is in (none when unknown). */
  principalsOf(accountId: string): string[] {
    const e = this.byAccount.get(accountId);
    return e ? [e.organizationArn, ...e.organizationalUnitArns] : [];
  }

  list(): AccountOrganization[] {
    return [...this.byAccount.values()].sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  reset(): void {
    this.byAccount.clear();
  }
}
