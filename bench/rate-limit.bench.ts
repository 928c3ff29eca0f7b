/**
 * Rate-limit fidelity: drives sts:GetCallerIdentity through the local stack's AWS proxy at ample
 * demand and prints observed vs budget rates. `npm run bench:rate-limit [-- SECONDS]`.
 */
import { useLocalStackEnv } from '../cli/local-env';
import { stackUp } from '../stack/local-stack';
import { loadStackConfig } from '../stack/stack-config';
import { measureRate } from '../test/support/rate-measurement';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const cfg = loadStackConfig();
  await stackUp(cfg, () => undefined);
  useLocalStackEnv(cfg);
  await fetch(`${cfg.awsEndpoint}/__fleetops/faults`, { method: 'DELETE' });
  console.log(`budget/s  seconds  calls  client/s  proxy-saw/s  deviation`);
  for (const budget of [10, 40, 80]) {
    const m = await measureRate({ awsEndpoint: cfg.awsEndpoint, budgetPerSecond: budget, seconds, concurrency: 48 });
    const dev = ((m.observedRate - budget) / budget) * 100;
    console.log(
      `${String(budget).padStart(8)}  ${m.seconds.toFixed(1).padStart(7)}  ${String(m.calls).padStart(5)}  ${m.observedRate.toFixed(2).padStart(8)}  ${m.serverSeenRate.toFixed(2).padStart(11)}  ${dev.toFixed(2).padStart(8)}%`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
