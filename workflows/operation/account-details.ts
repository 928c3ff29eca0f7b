/**
 * The live details (Temporal user metadata, markdown) of a per-account child workflow, kept current
 * as it runs: what it is doing now, where, each region's versions so far, and at the end its outcome,
 * reason and runbook. Pure; ids, versions and states only — never a secret value.
 */
import { oneLine } from '../campaign/campaign-metadata';
import type { AccountOperationResult, AccountProgress, RegionResult } from './account-operation';

export function accountCurrentDetails(o: {
  summary: string;
  campaignId: string;
  wave: string;
  attempt: number;
  progress: AccountProgress;
  regions: readonly RegionResult[];
  result?: AccountOperationResult;
}): string {
  const { progress, result } = o;
  const lines = [`**${o.summary}** — campaign \`${o.campaignId}\` · wave ${o.wave || '-'} · attempt ${o.attempt}`, ''];
  if (result) {
    lines.push(`**Outcome: ${result.outcome}**${result.reason ? ` — ${oneLine(result.reason)}` : ''}`);
    if (result.errorType) lines.push('', `Error type: \`${result.errorType}\``);
    if (result.runbook) lines.push('', `Runbook: \`${result.runbook}\``);
  } else {
    const where = progress.region ? ` in ${progress.region}` : '';
    lines.push(`**Now: ${progress.phase}**${where}`);
    if (progress.awaitingApproval) lines.push('', `Waiting for approval: ${oneLine(progress.awaitingApproval)}`);
  }
  const regions = result?.regions.length ? result.regions : o.regions;
  if (regions.length) {
    lines.push('', '**Regions**', '');
    for (const r of regions) {
      const versions = r.fromVersion || r.toVersion ? ` · ${r.fromVersion ?? '?'} → ${r.toVersion ?? '?'}` : '';
      const note = r.reason ? ` · ${oneLine(r.reason, 160)}` : r.plan ? ` · ${planNote(r.plan)}` : '';
      lines.push(`- ${r.region}: ${r.outcome}${versions}${note}`);
    }
  }
  return lines.join('\n');
}

function planNote(p: NonNullable<RegionResult['plan']>): string {
  const approval = p.needsApproval.length ? ` · needs approval: ${p.needsApproval.join(', ')}` : '';
  return `+${p.added} ~${p.modified} ±${p.replaced} -${p.removed}${approval}`;
}
