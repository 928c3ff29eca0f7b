import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { stackUp } from '../../stack/local-stack';
import { loadStackConfig } from '../../stack/stack-config';
import { createLogger } from '../../worker/logger';
import { createFleetWorker } from '../../worker/run-worker';
import { installRuntimeLogging } from '../../worker/runtime-logging';
import { loadWorkerConfig } from '../../worker/worker-config';
import { useLocalStackEnv } from '../local-env';
import { runInventory } from './inventory';
import { runSimSeed } from './sim-seed';

/**
 * `npm run demo`: local stack up, a simulated fleet seeded, a worker started in this process, and a
 * fleet inventory run with live progress; prints where to look afterwards. The stack stays up.
 */
export async function runDemo(o: { accounts: number }): Promise<void> {
  const cfg = loadStackConfig();
  const say = (l: string) => process.stderr.write(`${l}\n`);
  say('1/4 bringing the local stack up (Temporal, moto + AWS proxy, OpenBao)…');
  const up = await stackUp(cfg, (l) => say(`    ${l}`));
  say(`    ready in ${up.seconds.toFixed(1)} s`);
  useLocalStackEnv(cfg);

  say(`2/4 seeding a simulated fleet of ${o.accounts} accounts…`);
  const { file } = await runSimSeed({ accounts: o.accounts });

  const logFile = path.join(cfg.stateDir, 'logs', 'demo-worker.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  say(`3/4 starting a worker (logs: ${logFile})…`);
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: false }) });
  installRuntimeLogging(logger);
  const { worker, close } = await createFleetWorker({ config: loadWorkerConfig(), logger });
  const running = worker.run();

  try {
    say('4/4 running the fleet inventory…');
    const report = await runInventory({ fleet: file });
    say('\nWhere to look:');
    say(`  Temporal UI:   ${cfg.temporalUiUrl}/namespaces/default/workflows`);
    say(`  fleet file:    ${file}  (check it: npx fleetops fleet validate ${path.relative(process.cwd(), file)})`);
    say(`  worker log:    ${logFile}`);
    say(`  run it again:  npx fleetops inventory --fleet ${path.relative(process.cwd(), file)}   (needs a worker: npx fleetops worker --local)`);
    say('  stop the stack: npx fleetops stack down');
    if (report && report.failed > 0) process.exitCode = 1;
  } finally {
    worker.shutdown();
    await running;
    await close();
  }
}
