/**
 * The largest payload of each kind in workflow histories: every `payloads[].data` (and memo and search
 * attribute field) of every event, measured in bytes and kept per "event type · field" — what Temporal
 * checks against its 2 MB payload limit (blob size limit).
 */
import type { temporal } from '@temporalio/proto';

export type LargestPayloads = Map<string, { bytes: number; where: string }>;

/** Adds every payload of `events` (one run's history) to `largest`, `run` naming where it was seen. */
export function collectPayloadSizes(
  events: temporal.api.history.v1.IHistoryEvent[],
  run: string,
  largest: LargestPayloads,
): void {
  for (const event of events) {
    for (const [key, value] of Object.entries(event)) {
      if (!key.endsWith('Attributes') || !value || typeof value !== 'object') continue;
      walk(value as Record<string, unknown>, `${key.replace(/EventAttributes$/, '')}`, (field, bytes) => {
        const name = `${field}`;
        const seen = largest.get(name);
        if (!seen || bytes > seen.bytes) largest.set(name, { bytes, where: `${run} event ${String(event.eventId)}` });
      });
    }
  }
}

function walk(obj: Record<string, unknown>, at: string, found: (field: string, bytes: number) => void): void {
  for (const [key, value] of Object.entries(obj)) {
    if (!value || typeof value !== 'object') continue;
    if (value instanceof Uint8Array) continue;
    const payloads = (value as { payloads?: Array<{ data?: Uint8Array | null }> }).payloads;
    if (Array.isArray(payloads)) {
      found(
        `${at}.${key}`,
        payloads.reduce((n, p) => n + (p.data?.length ?? 0), 0),
      );
      continue;
    }
    const fields = (value as { fields?: Record<string, { data?: Uint8Array | null }> }).fields;
    if (
      fields &&
      typeof fields === 'object' &&
      (key === 'memo' || key === 'searchAttributes' || key === 'indexedFields')
    ) {
      found(
        `${at}.${key}`,
        Object.values(fields).reduce((n, p) => n + (p?.data?.length ?? 0), 0),
      );
      continue;
    }
    walk(value as Record<string, unknown>, `${at}.${key}`, found);
  }
}

/** `1,234,567 B (1.18 MiB)` */
export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} B (${(bytes / 1024 / 1024).toFixed(2)} MiB)`;
}
