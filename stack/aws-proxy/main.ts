/**
 * CLI entry for the AWS gap/fault proxy:
 *   node --import tsx stack/aws-proxy/main.ts --port 4566 --upstream http://127.0.0.1:5000 --state-dir DIR
 * Prints `aws-proxy listening on http://127.0.0.1:PORT` once ready; exits cleanly on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { createAwsProxy } from './server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      host: { type: 'string', default: '127.0.0.1' },
      upstream: { type: 'string', default: 'http://127.0.0.1:5000' },
      'state-dir': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got ${values.port}`);

  const proxy = createAwsProxy({
    upstream: values.upstream,
    stateDir: values['state-dir'],
    logger: values.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
  });
  const actual = await proxy.listen(port, values.host);
  process.stdout.write(`aws-proxy listening on http://${values.host}:${actual}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`aws-proxy: ${signal}, shutting down\n`);
    proxy.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`aws-proxy: ${(err as Error).message}\n`);
  process.exit(1);
});
