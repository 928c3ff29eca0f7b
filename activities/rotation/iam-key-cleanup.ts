/**
 * The grace-period end of an `iam-access-key` rotation (run by secretKeyCleanup, long after the
 * rotation finished): the old key deactivated, later deleted. Each step checks first that the key is
 * still not the live one (a rollback or a later rotation may have changed that), so a late or repeated
 * run never touches the key the loader uses.
 */
import { secretLiveRecordPath } from '../../fleet/secret-vault-layout';
import { deleteAccessKey, listAccessKeys, setAccessKeyStatus } from '../aws/iam-access-keys';
import type { IamKeyRotation } from './iam-key-rotation';
import { RotationVault } from './rotation-vault';
import type { RotationDeps, RotationTarget } from './secret-rotation';

export type KeyCleanupStep = RotationTarget & { accessKeyId: string };
/** What a cleanup step did (or why not). */
export type KeyCleanupResult = {
  action: 'deactivated' | 'deleted' | 'already-done' | 'kept-live' | 'kept-active' | 'gone';
};

export class IamKeyCleanup {
  private readonly vault: RotationVault;

  constructor(
    private readonly deps: RotationDeps,
    private readonly rotation: IamKeyRotation,
  ) {
    this.vault = new RotationVault(deps.vault);
  }

  /** Deactivates the key unless it is the live one again; nothing to do when it is inactive or gone. */
  async deactivate(step: KeyCleanupStep): Promise<KeyCleanupResult> {
    const { account, secret } = this.rotation.resolve(step);
    if (await this.isLive(step)) return { action: 'kept-live' };
    const user = this.rotation.user(account, secret, step);
    const key = (await listAccessKeys(this.deps, user)).find((k) => k.accessKeyId === step.accessKeyId);
    if (!key) return { action: 'gone' };
    if (key.status === 'Inactive') return { action: 'already-done' };
    await setAccessKeyStatus(this.deps, { ...user, accessKeyId: step.accessKeyId, status: 'Inactive' });
    return { action: 'deactivated' };
  }

  /** Deletes the key if it is still inactive and not live; an active key (someone re-enabled it) is kept. */
  async delete(step: KeyCleanupStep): Promise<KeyCleanupResult> {
    const { account, secret } = this.rotation.resolve(step);
    if (await this.isLive(step)) return { action: 'kept-live' };
    const user = this.rotation.user(account, secret, step);
    const key = (await listAccessKeys(this.deps, user)).find((k) => k.accessKeyId === step.accessKeyId);
    if (!key) return { action: 'already-done' };
    if (key.status === 'Active') return { action: 'kept-active' };
    await deleteAccessKey(this.deps, { ...user, accessKeyId: step.accessKeyId });
    return { action: 'deleted' };
  }

  private async isLive(step: KeyCleanupStep): Promise<boolean> {
    const live = await this.vault.liveRecord(secretLiveRecordPath(step.accountId, step.secret));
    return live?.record.accessKeyId === step.accessKeyId;
  }
}
