import { stackDown, stackStatus, stackUp, type PartStatus } from '../../stack/local-stack';
import { loadStackConfig } from '../../stack/stack-config';

function printParts(parts: PartStatus[]): void {
  for (const p of parts) {
    const state = p.healthy ? 'healthy' : p.running ? 'running, NOT answering' : 'stopped';
    process.stdout.write(`  ${p.name.padEnd(10)} ${state.padEnd(22)} ${p.url}${p.pid ? `  (pid ${p.pid})` : ''}\n`);
  }
}

export async function runStackUp(o: { json?: boolean }): Promise<void> {
  const cfg = loadStackConfig();
  const { parts, seconds } = await stackUp(cfg);
  if (o.json)
    return void process.stdout.write(`${JSON.stringify({ parts, seconds, stateDir: cfg.stateDir }, null, 2)}\n`);
  process.stdout.write(`local stack up in ${seconds.toFixed(1)} s (state in ${cfg.stateDir}):\n`);
  printParts(parts);
  process.stdout.write(`\n  Temporal UI: ${cfg.temporalUiUrl}\n  stop it with: npx fleetops stack down\n`);
}

export async function runStackDown(): Promise<void> {
  await stackDown(loadStackConfig(), (l) => process.stdout.write(`  ${l}\n`));
}

/** Exit code 0 when every part is healthy, 1 otherwise. */
export async function runStackStatus(o: { json?: boolean }): Promise<number> {
  const parts = await stackStatus(loadStackConfig());
  if (o.json) process.stdout.write(`${JSON.stringify(parts, null, 2)}\n`);
  else printParts(parts);
  return parts.every((p) => p.healthy) ? 0 : 1;
}
