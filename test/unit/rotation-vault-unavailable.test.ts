import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { createRotationActivities } from '../../activities/rotation/rotation-activities';
import type { RotationDeps } from '../../activities/rotation/secret-rotation';
import { VaultError } from '../../activities/vault/vault-errors';
import type { VaultKv } from '../../activities/vault/vault-kv';
import { simulatedFleet } from '../../cli/sim/simulated-fleet';
import { ErrorType } from '../../fleet/error-types';
import { stringifyFleet } from '../../fleet/load-fleet';

// Vault sealed or unreachable mid-rotation: the step fails *retryably* (Temporal retries it and the
// rotation resumes), and nothing reaches AWS before Vault holds the value.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotation-vault-'));
const fleetFile = path.join(dir, 'fleet.yaml');
const [account] = simulatedFleet(1, { idBase: 990_000_000_000 });
fs.writeFileSync(fleetFile, stringifyFleet([account]));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sealed = () =>
  new VaultError(ErrorType.VaultUnavailable, 'Vault write secret/data/x: Vault is sealed (HTTP 503)', {
    operation: 'write',
    path: 'secret/data/x',
    httpStatus: 503,
  });

function deps(awsCalls: string[]): RotationDeps {
  const vault = {
    readSecretVersion: () => Promise.resolve(null),
    readMetadata: () => Promise.resolve(null),
    writeSecretVersion: () => Promise.reject(sealed()),
  } as unknown as VaultKv;
  const send = (command: { constructor: { name: string } }) => {
    awsCalls.push(command.constructor.name);
    return Promise.resolve({ VersionIdsToStages: { old: ['AWSCURRENT'] } });
  };
  return {
    vault,
    fleetDirs: [dir],
    clients: { secretsManager: () => ({ send }) },
    credentials: { provider: () => () => Promise.resolve({ accessKeyId: 'x', secretAccessKey: 'y' }) },
    limits: { acquire: () => Promise.resolve(), throttled: () => undefined },
  } as unknown as RotationDeps;
}

describe('rotation with Vault unavailable', () => {
  it('create fails retryably (VaultUnavailable) and puts nothing in AWS', async () => {
    const awsCalls: string[] = [];
    const acts = createRotationActivities(deps(awsCalls));
    const step = {
      fleetFile,
      accountId: account.id,
      secret: 'collector-api-key',
      campaignId: 'c',
      token: '11111111-1111-5111-8111-111111111111',
    };
    const failure = await acts.rotationCreatePending(step).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(ErrorType.VaultUnavailable);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect(awsCalls).toEqual([]);
  });
});
