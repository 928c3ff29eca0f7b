/** The answers the layer gives: moto's (possibly rewritten), or its own (simulated results, AWS's refusals). */
import { renderQueryError } from '../core/aws-errors';
import type { BufferedResponse } from '../core/upstream-forwarder';
import type { LayerResponse } from './layer-context';

/** moto's answer, with `rewrittenXml` as its body when given. */
export function passThrough(res: BufferedResponse, rewrittenXml?: string, outcome = 'forwarded'): LayerResponse {
  const body = rewrittenXml === undefined ? res.body : Buffer.from(rewrittenXml, 'utf8');
  return {
    status: res.status,
    headers: res.headers,
    body,
    outcome: rewrittenXml === undefined ? outcome : `${outcome}(rewritten)`,
    forwarded: true,
  };
}

/** An answer of the proxy's own (nothing was forwarded). */
export function answer(
  res: { status: number; headers: Record<string, string>; body: Buffer },
  outcome: string,
): LayerResponse {
  return { status: res.status, headers: res.headers, body: res.body, outcome, forwarded: false };
}

/** AWS's `ValidationError` (400, Sender). */
export function validationError(message: string): LayerResponse {
  return answer(
    renderQueryError('cloudformation', { status: 400, type: 'Sender', code: 'ValidationError', message }),
    'refused(validation)',
  );
}
