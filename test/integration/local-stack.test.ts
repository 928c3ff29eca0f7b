import { port } from '../support/test-env';
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackDown, stackStatus, stackUp } from '../../stack/local-stack';
import { isAlive, readProcessRecord } from '../../stack/processes';
import { loadStackConfig } from '../../stack/stack-config';
import { Client, Connection } from '@temporalio/client';

async function withClient<T>(address: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

describe('local stack', () => {
  it('reports every part healthy (the run-wide stack)', async () => {
    const parts = await stackStatus(loadStackConfig());
    expect(parts.map((p) => [p.name, p.healthy])).toEqual([
      ['temporal', true],
      ['moto', true],
      ['aws-proxy', true],
      ['vault', true],
      ['valkey', true],
    ]);
  });

  it('up is idempotent and down stops exactly what up started, by PID; workflows survive a Temporal restart', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-stack-'));
    const cfg = loadStackConfig({
      FLEETOPS_STATE_DIR: stateDir,
      FLEETOPS_TEMPORAL_PORT: port(27233),
      FLEETOPS_TEMPORAL_UI_PORT: port(28233),
      FLEETOPS_MOTO_PORT: port(25000),
      FLEETOPS_AWS_PORT: port(24566),
      FLEETOPS_VAULT_PORT: port(28200),
      FLEETOPS_VALKEY_PORT: port(26379),
    });
    try {
      await stackUp(cfg, () => undefined);
      const pids = ['temporal', 'moto', 'aws-proxy', 'vault', 'valkey'].map((n) => readProcessRecord(stateDir, n)!.pid);
      const again = await stackUp(cfg, () => undefined);
      expect(again.parts.every((p) => p.healthy)).toBe(true);
      expect(
        ['temporal', 'moto', 'aws-proxy', 'vault', 'valkey'].map((n) => readProcessRecord(stateDir, n)!.pid),
      ).toEqual(pids);
      expect(fs.existsSync(path.join(stateDir, 'temporal.sqlite'))).toBe(true);

      // A workflow started now (no worker polls this queue) must still be there after a restart.
      await withClient(cfg.temporalAddress, (c) =>
        c.workflow.start('fleetInventory', {
          taskQueue: 'nobody',
          workflowId: 'survives-restart',
          args: [{ fleetFile: 'x' }],
        }),
      );

      await stackDown(cfg, () => undefined);
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
      const after = await stackStatus(cfg);
      expect(after.every((p) => !p.running && !p.healthy)).toBe(true);

      await stackUp(cfg, () => undefined);
      const described = await withClient(cfg.temporalAddress, (c) =>
        c.workflow.getHandle('survives-restart').describe(),
      );
      expect(described.status.name).toBe('RUNNING');
    } finally {
      await stackDown(cfg, () => undefined);
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 180_000);
});
