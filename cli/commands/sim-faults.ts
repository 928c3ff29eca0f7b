import fs from 'node:fs';
import { loadStackConfig } from '../../stack/stack-config';

/** `fleetops sim faults set FILE|JSON | show | clear`: the AWS proxy's fault plan. */
export async function runSimFaults(action: 'set' | 'show' | 'clear', source?: string): Promise<void> {
  const url = `${loadStackConfig().awsEndpoint}/__fleetops/faults`;
  let res: Response;
  if (action === 'set') {
    if (!source) throw new Error('sim faults set: give a fault plan file or inline JSON');
    const body = source.trimStart().startsWith('{') ? source : fs.readFileSync(source, 'utf8');
    res = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body });
  } else {
    res = await fetch(url, { method: action === 'clear' ? 'DELETE' : 'GET' });
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`AWS proxy refused the fault plan (HTTP ${res.status}):\n${text}`);
  process.stdout.write(`${text}\n`);
}
