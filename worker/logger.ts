import pino, { type Logger } from 'pino';

/**
 * Field paths pino censors wherever they appear in a log object. Credentials and secret values are
 * never logged on purpose; this is the net under that rule.
 */
export const REDACTED_PATHS = [
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'externalId',
  'ExternalId',
  'token',
  'password',
  'secret',
  'value',
  'credentials',
  'Credentials',
  'SecretString',
  'SecretAccessKey',
  'SessionToken',
  'AccessKeyId',
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers["x-vault-token"]',
  'headers["X-Vault-Token"]',
  'client_token',
  'clientToken',
  'secret_id',
  'secretId',
  'VAULT_TOKEN',
  'VAULT_SECRET_ID',
  'config.headers',
].flatMap((p) => [p, `*.${p}`, `*.*.${p}`]);

/** The fleetops logger: JSON lines; pretty and coloured when writing to a terminal. */
export function createLogger(opts: {
  level: string;
  name?: string;
  pretty?: boolean;
  destination?: pino.DestinationStream;
}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY;
  const base = {
    level: opts.level,
    name: opts.name ?? 'fleetops',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty)
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } },
    });
  return pino(base);
}
