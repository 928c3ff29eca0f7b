/**
 * Names the account a request acts in for moto, in moto's own `x-moto-account-id` header.
 *
 * Without it, moto finds the account of every request by scanning each account's IAM access keys
 * (`get_account_id_from` in moto/iam/models.py): O(accounts) per request. With 4,000 accounts seeded
 * that scan was 57% of moto's CPU (py-spy, bench:workers), and moto is the local stack's bottleneck.
 * The proxy already knows the account of every key it saw issued (AssumeRole, CreateAccessKey), which
 * is the account moto's scan would find, so the answer is the same without the scan. Keys the proxy
 * does not know are left to moto's scan.
 *
 * A client's own `x-moto-account-id` is always dropped: AWS knows no such header, and a caller must
 * not choose the account its request acts in.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const MOTO_ACCOUNT_HEADER = 'x-moto-account-id';

/** Sets (or removes) the header in `headers`, which are forwarded to moto as they are. */
export function pinMotoAccount(headers: IncomingHttpHeaders, keyAccount: string | undefined): void {
  delete headers[MOTO_ACCOUNT_HEADER];
  if (keyAccount) headers[MOTO_ACCOUNT_HEADER] = keyAccount;
}
