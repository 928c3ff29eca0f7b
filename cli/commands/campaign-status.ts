/** `fleetops campaign status ID [--watch]`. */
import type { Client } from '@temporalio/client';
import { connectTemporalClient } from '../temporal-client';
import { FLEET_STATE, FLEET_WAVE } from '../../workflows/search-attributes';
import { snapshotFromMemo } from '../../workflows/campaign/campaign-snapshot';
import { findCampaign, readCampaign, queryStatus, type CampaignView, type FoundCampaign } from './campaign-client';
import {
  campaignExitCode,
  formatCampaignLine,
  formatCampaignStatus,
  formatFinalSummary,
  TERMINAL_PHASES,
  type CampaignResult,
} from './campaign-status-view';

export type CampaignStatusOptions = { watch?: boolean; json?: boolean; live?: boolean };

/** Prints the campaign's status; returns the exit code (with --watch: 0 only if it completed with no failed account). */
export async function runCampaignStatus(id: string, o: CampaignStatusOptions): Promise<number> {
  const { client, namespace, close } = await connectTemporalClient();
  try {
    return await showCampaignStatus(client, namespace, id, o);
  } finally {
    await close();
  }
}

/** runCampaignStatus on an open client (`campaign start --watch` continues with this). */
export async function showCampaignStatus(
  client: Client,
  namespace: string,
  id: string,
  o: CampaignStatusOptions,
): Promise<number> {
  const found = await findCampaign(client, namespace, id);
  // A running campaign's text view comes from the snapshot in its memo: one describe, no worker needed.
  const snapshot =
    found.running && !o.watch && !o.json && !o.live ? snapshotFromMemo(found.description.memo) : undefined;
  if (snapshot) {
    process.stdout.write(formatCampaignStatus(snapshot));
    return 0;
  }
  if (!o.watch || !found.running) {
    const view = await readCampaign(client, found).catch((err: unknown) => {
      // No answer (e.g. no worker): say at least what Temporal's visibility knows, then the error.
      if (found.running && !o.json) process.stdout.write(`${formatFromSearchAttributes(found)}\n`);
      throw err;
    });
    printView(view, o.json);
    return o.watch ? viewExitCode(view) : 0;
  }
  return watchCampaign(client, found, o);
}

function printView(view: CampaignView, json?: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify(view.closed ? { ...view.status, closedAs: view.closedAs, failure: view.failure } : view.status, null, 2)}\n`,
    );
    return;
  }
  if (view.status) process.stdout.write(formatCampaignStatus(view.status));
  if (view.closed) {
    if (view.failure) process.stdout.write(`campaign workflow ${view.closedAs}: ${view.failure}\n`);
    if (view.status) process.stdout.write(formatFinalSummary(view.status));
    else process.stdout.write(`campaign ${view.closedAs}; no status available\n`);
  }
}

/**
 * Redraws the view every second (on a terminal; plain lines otherwise, on stderr) until the campaign
 * closes, then prints the final view and summary on stdout. Ctrl-C stops watching, not the campaign.
 */
async function watchCampaign(client: Client, found: FoundCampaign, o: CampaignStatusOptions): Promise<number> {
  const out = process.stderr;
  const tty = Boolean(out.isTTY) && !o.json;
  let closed = false;
  const result = found.handle
    .result()
    .then(
      () => undefined,
      () => undefined, // how it ended is read below
    )
    .finally(() => {
      closed = true;
    });

  let drawnLines = 0;
  let lastLine = '';
  let lastLineAt = 0;
  let lastPhase = '';
  const seenProblems = new Set<string>();
  const draw = (status: CampaignResult | undefined, error?: string) => {
    if (tty) {
      const rows = Math.max(10, (out.rows ?? 40) - 1);
      const cols = Math.max(40, (out.columns ?? 120) - 1);
      const text = status
        ? formatCampaignStatus(status, { maxProblems: Math.max(3, rows - 14 - (status.waves?.length ?? 0)) })
        : '';
      const lines = `${text}${error ? `⚠ ${error}\n` : ''}`
        .split('\n')
        .slice(0, -1)
        .slice(0, rows)
        .map((l) => (l.length > cols ? `${l.slice(0, cols - 1)}…` : l));
      out.write(`${drawnLines ? `\x1b[${drawnLines}F` : ''}\x1b[0J${lines.join('\n')}\n`);
      drawnLines = lines.length;
      return;
    }
    if (error) {
      out.write(`${new Date().toISOString().slice(11, 19)} ⚠ ${error.split('\n')[0]}\n`);
      return;
    }
    if (!status) return;
    for (const p of status.problems ?? []) {
      const key = `${p.accountId}:${p.state}`;
      if (seenProblems.has(key)) continue;
      seenProblems.add(key);
      out.write(
        `  ${p.state} ${p.accountId} (${p.wave})${p.errorType ? ` ${p.errorType}` : ''}: ${p.reason}${p.runbook ? ` — ${p.runbook}` : ''}\n`,
      );
    }
    const line = formatCampaignLine(status);
    const body = line.slice(9); // without the time
    if (body !== lastLine && (status.phase !== lastPhase || Date.now() - lastLineAt >= 5000)) {
      out.write(`${line}${status.phaseReason && status.phase !== lastPhase ? ` (${status.phaseReason})` : ''}\n`);
      lastLine = body;
      lastLineAt = Date.now();
      lastPhase = status.phase;
    }
  };

  const onSigint = () => {
    if (tty) out.write('\n');
    out.write(
      `stopped watching; campaign ${found.handle.workflowId} goes on. Watch again: npx fleetops campaign status ${found.handle.workflowId} --watch\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    while (!closed) {
      try {
        const status = await queryStatus(client, found.handle, 10_000);
        draw(status);
        if (TERMINAL_PHASES.includes(status.phase)) await Promise.race([result, sleep(5000)]);
      } catch (err) {
        if (!closed) draw(undefined, (err as Error).message); // e.g. no worker: keep watching, it may come back
      }
      if (!closed) await Promise.race([result, sleep(1000)]);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (tty && drawnLines) out.write(`\x1b[${drawnLines}F\x1b[0J`);
  const view = await readCampaign(client, { ...found, running: false, description: await found.handle.describe() });
  printView(view, o.json);
  return viewExitCode(view);
}

const viewExitCode = (view: CampaignView) => (view.closed && view.failure ? 1 : campaignExitCode(view.status));

function formatFromSearchAttributes(found: FoundCampaign): string {
  const sa = found.description.typedSearchAttributes;
  const state = sa.get(FLEET_STATE);
  const wave = sa.get(FLEET_WAVE);
  return (
    `campaign ${found.handle.workflowId} — workflow running since ${found.description.startTime.toISOString()}` +
    `${state ? `, last recorded phase ${state}` : ''}${wave ? `, wave ${wave}` : ''}`
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
