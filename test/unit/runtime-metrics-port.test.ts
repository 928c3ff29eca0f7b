import net from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { installRuntime } from '../../worker/runtime-install';

// Two workers on one host with the default metrics address: the second cannot bind the port. Its
// error names the setting to change, not only the port (this file's process installs the Runtime once).
describe('installRuntime with a metrics address already in use', () => {
  it('fails naming FLEETOPS_METRICS_ADDRESS and what to do', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      expect(() => installRuntime(pino({ level: 'silent' }), { metricsAddress: `127.0.0.1:${port}` })).toThrow(
        `FLEETOPS_METRICS_ADDRESS=127.0.0.1:${port}: `,
      );
    } finally {
      taken.close();
    }
  });
});
