/**
 * The Secrets Manager side of a rotation, shared by every kind that delivers its value through a
 * secret (`secretsmanager`: the secret itself; `iam-access-key`: its `deliverTo` secret): version
 * `token` put as AWSPENDING, read back by hash, made AWSCURRENT, and moved back. Each method reads
 * the stages first and does only what is missing. Values go in, hashes come out.
 */
import { ErrorType } from '../../fleet/error-types';
import type { AccountAwsDeps, AccountRegion } from '../aws/account-region';
import { FleetOpsError } from '../aws/errors';
import {
  describeSecretVersions,
  moveVersionStage,
  putPendingVersion,
  readVersionHash,
  versionWithStage,
} from '../aws/secretsmanager';

/** Which secret, where: the account and region, the secret id, and this rotation's token (its VersionId). */
export type PendingVersionAt = AccountRegion & { secretId: string; token: string };

export class PendingVersionStages {
  constructor(private readonly deps: AccountAwsDeps) {}

  /** PutSecretValue of `value` as version `token` (AWSPENDING) unless that version exists; true when it did. */
  async ensurePending(at: PendingVersionAt, value: () => string): Promise<{ reused: boolean }> {
    const state = await describeSecretVersions(this.deps, at);
    if (at.token in state.versions) return { reused: true };
    await putPendingVersion(this.deps, { ...at, value: value() });
    return { reused: false };
  }

  /** The hash of version `token` as AWS holds it (null when it holds no string); found: false when it is not there. */
  async pendingHash(at: PendingVersionAt): Promise<{ found: boolean; hash: string | null }> {
    const state = await describeSecretVersions(this.deps, at);
    if (!(at.token in state.versions)) return { found: false, hash: null };
    return { found: true, hash: await readVersionHash(this.deps, { ...at, versionId: at.token }) };
  }

  /**
   * Moves AWSCURRENT to version `token` (the old one becomes AWSPREVIOUS) and drops its AWSPENDING
   * label. Returns the version that was current before (for a rollback).
   */
  async makeCurrent(at: PendingVersionAt): Promise<{ previousVersionId?: string; moved: boolean }> {
    const state = await describeSecretVersions(this.deps, at);
    if (!(at.token in state.versions)) {
      throw new FleetOpsError(
        ErrorType.SecretTestFailed,
        `${at.secretId} in ${at.region}: version ${at.token} is gone before it was made current`,
      );
    }
    const current = versionWithStage(state, 'AWSCURRENT');
    const moved = current !== at.token;
    const previousVersionId = moved ? current : versionWithStage(state, 'AWSPREVIOUS');
    if (moved) await moveVersionStage(this.deps, { ...at, stage: 'AWSCURRENT', moveTo: at.token, removeFrom: current });
    if (state.versions[at.token].includes('AWSPENDING'))
      await moveVersionStage(this.deps, { ...at, stage: 'AWSPENDING', removeFrom: at.token });
    return { ...(previousVersionId ? { previousVersionId } : {}), moved };
  }

  /** AWSCURRENT back on `previousVersionId` if it is on `token`; AWSPENDING taken off `token`. */
  async moveBack(at: PendingVersionAt & { previousVersionId?: string }): Promise<{ restoredCurrent: boolean }> {
    const state = await describeSecretVersions(this.deps, at);
    const current = versionWithStage(state, 'AWSCURRENT');
    let restoredCurrent = false;
    if (current === at.token) {
      if (!at.previousVersionId)
        throw new FleetOpsError(
          ErrorType.RollbackFailed,
          `${at.secretId} in ${at.region}: version ${at.token} is AWSCURRENT and no previous version is known`,
        );
      await moveVersionStage(this.deps, {
        ...at,
        stage: 'AWSCURRENT',
        moveTo: at.previousVersionId,
        removeFrom: at.token,
      });
      restoredCurrent = true;
    }
    if (state.versions[at.token]?.includes('AWSPENDING'))
      await moveVersionStage(this.deps, { ...at, stage: 'AWSPENDING', removeFrom: at.token });
    return { restoredCurrent };
  }
}
