import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import {
  httpOk,
  isOurProcessAlive,
  killProcess,
  readProcessRecord,
  startProcess,
  stopProcess,
  waitUntil,
  type ProcessRecord,
} from './processes';
import { FLEET_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { loadStackConfig, PROJECT_ROOT, type StackConfig } from './stack-config';
import { valkeyAnswersPing, valkeyServerCommand } from './valkey-server';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain-JS setup script, found from the project root (sources or dist/)
const { ensurePythonTools } = require(path.join(PROJECT_ROOT, 'scripts', 'ensure-setup.js')) as {
  ensurePythonTools: () => string;
};

export type StackPartName = 'temporal' | 'moto' | 'aws-proxy' | 'vault' | 'valkey';

/** One server of the local stack: how to start it and how to tell it is healthy. */
type StackPart = {
  name: StackPartName;
  title: string;
  url: (cfg: StackConfig) => string;
  command: (cfg: StackConfig) => string[];
  env?: (cfg: StackConfig) => NodeJS.ProcessEnv;
  healthy: (cfg: StackConfig) => Promise<boolean>;
  startTimeoutMs: number;
};

const PARTS: StackPart[] = [
  {
    name: 'temporal',
    title: 'Temporal dev server',
    url: (c) => `${c.temporalAddress} (Web UI ${c.temporalUiUrl})`,
    command: (c) => [
      path.join(c.venvBin, 'temporal'),
      'server',
      'start-dev',
      '--ip',
      c.host,
      '--port',
      String(c.temporalPort),
      '--ui-port',
      String(c.temporalUiPort),
      '--db-filename',
      path.join(c.stateDir, 'temporal.sqlite'),
      // Write-ahead log, synced at checkpoints: a commit costs no journal file and no fsync of its own. A
      // killed server (SIGKILL, the chaos tests) loses no committed transaction; an OS crash may lose the last ones.
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
      '--log-level',
      'warn',
      '--ui-disable-news-fetch',
      ...FLEET_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    ],
    healthy: temporalHealthy,
    startTimeoutMs: 60_000,
  },
  {
    name: 'moto',
    title: 'moto (AWS emulator)',
    url: (c) => c.motoUrl,
    command: (c) => [path.join(c.venvBin, 'moto_server'), '-H', c.host, '-p', String(c.motoPort)],
    env: () => ({ ...process.env, MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' }),
    // `/moto-api/config` is tiny; `data.json` would serialise every resource moto holds (minutes at 4,000 accounts).
    healthy: (c) => httpOk(`${c.motoUrl}/moto-api/config`),
    startTimeoutMs: 30_000,
  },
  {
    name: 'aws-proxy',
    title: 'AWS gap/fault proxy (use this as the AWS endpoint)',
    url: (c) => c.awsEndpoint,
    command: (c) => [
      process.execPath,
      // the proxy's entry point beside this file: compiled JavaScript, or TypeScript through tsx
      ...(__filename.endsWith('.ts') ? ['--import', 'tsx'] : []),
      path.join(__dirname, 'aws-proxy', `main${path.extname(__filename)}`),
      '--port',
      String(c.awsPort),
      '--upstream',
      c.motoUrl,
      '--state-dir',
      path.join(c.stateDir, 'aws-proxy'),
    ],
    healthy: (c) => httpOk(`${c.awsEndpoint}/__fleetops/health`),
    startTimeoutMs: 30_000,
  },
  {
    name: 'vault',
    title: 'OpenBao dev server (Vault API)',
    url: (c) => c.vaultAddr,
    command: (c) => [
      path.join(c.venvBin, 'bao'),
      'server',
      '-dev',
      `-dev-listen-address=${c.host}:${c.vaultPort}`,
      `-dev-root-token-id=${c.vaultDevToken}`,
      '-dev-no-store-token',
    ],
    env: () => ({ ...process.env, HOME: process.env.HOME ?? '/tmp' }),
    healthy: (c) => httpOk(`${c.vaultAddr}/v1/sys/health`),
    startTimeoutMs: 30_000,
  },
  {
    name: 'valkey',
    title: 'Valkey (shared rate budgets of all workers)',
    url: (c) => c.valkeyUrl,
    command: (c) => valkeyServerCommand(c.venvBin, c.host, c.valkeyPort, path.join(c.stateDir, 'valkey')),
    healthy: (c) => valkeyAnswersPing(c.host, c.valkeyPort),
    startTimeoutMs: 15_000,
  },
];

async function temporalHealthy(c: StackConfig): Promise<boolean> {
  const connection = await Connection.connect({ address: c.temporalAddress, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    const sa = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    return FLEET_SEARCH_ATTRIBUTES.every((k) => k.name in (sa.customAttributes ?? {}));
  } finally {
    await connection.close();
  }
}

function partNamed(name: StackPartName): StackPart {
  const part = PARTS.find((p) => p.name === name);
  if (!part) throw new Error(`unknown stack part "${name}": expected one of ${PARTS.map((p) => p.name).join(', ')}`);
  return part;
}

/**
 * SIGKILLs one part of the stack by its recorded PID, as a crash would (Temporal: no shutdown, its
 * SQLite file left as the crash left it); resolves once the process is gone. For chaos tests.
 */
export async function killStackPart(cfg: StackConfig, name: StackPartName): Promise<ProcessRecord> {
  return killProcess(cfg.stateDir, partNamed(name).name);
}

/**
 * Starts one part that is not running, with its usual command and state (Temporal: the same SQLite
 * file, so workflows, task queues and timers are kept), and resolves once it is healthy.
 */
export async function startStackPart(cfg: StackConfig, name: StackPartName): Promise<{ pid: number; seconds: number }> {
  const started = Date.now();
  const part = partNamed(name);
  const running = readProcessRecord(cfg.stateDir, name);
  if (running && isOurProcessAlive(running)) throw new Error(`${name} already runs (pid ${running.pid})`);
  const rec = startProcess(cfg.stateDir, name, part.command(cfg), part.env?.(cfg) ?? process.env);
  await waitUntil(part.title, () => part.healthy(cfg), part.startTimeoutMs, rec.logFile);
  return { pid: rec.pid, seconds: (Date.now() - started) / 1000 };
}

export type PartStatus = { name: string; title: string; url: string; pid?: number; running: boolean; healthy: boolean };

/** Starts whatever part of the local stack is not already running and healthy; waits for each. */
export async function stackUp(
  cfg: StackConfig = loadStackConfig(),
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<{ parts: PartStatus[]; seconds: number }> {
  const started = Date.now();
  ensurePythonTools();
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const starting: Array<{ part: StackPart; logFile: string }> = [];
  for (const part of PARTS) {
    const record = readProcessRecord(cfg.stateDir, part.name);
    if (record && isOurProcessAlive(record)) {
      log(`${part.name}: already running (pid ${record.pid})`);
      continue;
    }
    const rec = startProcess(cfg.stateDir, part.name, part.command(cfg), part.env?.(cfg) ?? process.env);
    log(`${part.name}: started (pid ${rec.pid}), log ${path.relative(process.cwd(), rec.logFile)}`);
    starting.push({ part, logFile: rec.logFile });
  }
  // Wait for all parts together: Temporal takes the longest, the others come up meanwhile.
  await Promise.all(
    PARTS.map((part) =>
      waitUntil(
        part.title,
        () => part.healthy(cfg),
        part.startTimeoutMs,
        starting.find((s) => s.part === part)?.logFile,
      ),
    ),
  );
  return { parts: await stackStatus(cfg), seconds: (Date.now() - started) / 1000 };
}

/** Stops exactly the processes `stackUp` started (by recorded PID), in reverse order. */
export async function stackDown(
  cfg: StackConfig = loadStackConfig(),
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  for (const part of [...PARTS].reverse()) {
    const result = await stopProcess(cfg.stateDir, part.name);
    log(`${part.name}: ${result}`);
  }
}

export async function stackStatus(cfg: StackConfig = loadStackConfig()): Promise<PartStatus[]> {
  return Promise.all(
    PARTS.map(async (part) => {
      const record = readProcessRecord(cfg.stateDir, part.name);
      const running = record ? isOurProcessAlive(record) : false;
      const healthy = await part.healthy(cfg).catch(() => false);
      return {
        name: part.name,
        title: part.title,
        url: part.url(cfg),
        pid: running ? record?.pid : undefined,
        running,
        healthy,
      };
    }),
  );
}
