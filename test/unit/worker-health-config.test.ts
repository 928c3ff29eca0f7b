import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../worker/worker-config';

const base = { FLEETOPS_FLEET_DIRS: '/srv/fleet', VAULT_TOKEN: 'tok' };
const configError = (env: Record<string, string>): string => {
  try {
    loadWorkerConfig({ ...base, ...env });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('health probe and shutdown settings', () => {
  it('defaults: probes on loopback 9465, 30 s shutdown grace', () => {
    const config = loadWorkerConfig(base);
    expect(config.healthAddress).toBe('127.0.0.1:9465');
    expect(config.shutdownGraceSeconds).toBe(30);
  });

  it('FLEETOPS_HEALTH_ADDRESS: host:port, [IPv6]:port or off', () => {
    expect(loadWorkerConfig({ ...base, FLEETOPS_HEALTH_ADDRESS: '0.0.0.0:8080' }).healthAddress).toBe('0.0.0.0:8080');
    expect(loadWorkerConfig({ ...base, FLEETOPS_HEALTH_ADDRESS: '[::]:8080' }).healthAddress).toBe('[::]:8080');
    expect(loadWorkerConfig({ ...base, FLEETOPS_HEALTH_ADDRESS: 'off' })).not.toHaveProperty('healthAddress');
    expect(configError({ FLEETOPS_HEALTH_ADDRESS: '8080' })).toContain(
      'FLEETOPS_HEALTH_ADDRESS: expected host:port like 127.0.0.1:9465, or off',
    );
  });

  it('FLEETOPS_SHUTDOWN_GRACE_SECONDS: whole seconds, 0 or more', () => {
    expect(loadWorkerConfig({ ...base, FLEETOPS_SHUTDOWN_GRACE_SECONDS: '0' }).shutdownGraceSeconds).toBe(0);
    expect(loadWorkerConfig({ ...base, FLEETOPS_SHUTDOWN_GRACE_SECONDS: '120' }).shutdownGraceSeconds).toBe(120);
    expect(configError({ FLEETOPS_SHUTDOWN_GRACE_SECONDS: '-1' })).toContain(
      'FLEETOPS_SHUTDOWN_GRACE_SECONDS: expected 0 or more seconds',
    );
    expect(configError({ FLEETOPS_SHUTDOWN_GRACE_SECONDS: '1.5' })).toContain(
      'FLEETOPS_SHUTDOWN_GRACE_SECONDS: expected whole seconds',
    );
  });
});
