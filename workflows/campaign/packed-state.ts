import type { MaintenanceWindow } from '../../fleet/fleet-schema';
import type { AccountState } from './campaign-messages';
import { isProblem, type AccountRecord, type CampaignState, type WaveRecord } from './campaign-state';
import { MAX_STATUS_PROBLEMS } from './campaign-status';

/**
 * The campaign state as it crosses continue-as-new at fleet scale (issue 11 item 9). Held in memory
 * the engine keeps one record per account keyed by id; carried like that, 40,000 accounts are 2.1 MB
 * (ids twice: in the waves and as keys) plus up to 4 MB of maintenance windows — past Temporal's 2 MB
 * payload limit. Packed, every id is written once (the wave's ids joined by commas), every account's
 * state is one character (an index into `stateTable`) aligned with those ids, a maintenance window is
 * written once and referenced by index, and only accounts with more than a state (retried, a problem
 * with its reason, a plan preview) keep a record in `extra`: 40,000 accounts carry in about 0.6 MB.
 * Reasons, error types and runbooks are carried for the problems the status lists (the first
 * MAX_STATUS_PROBLEMS in wave order) only — 40,000 failures with their reasons would be 7.6 MB; every
 * account's reason stays on its child workflow's result.
 */
export type PackedCampaignState = Omit<CampaignState, 'waves' | 'accounts' | 'windows'> & {
  /** format marker: a carry without it is a CampaignState as written before packing */
  packed: 1;
  waves: PackedWave[];
  /** every distinct account state, referenced by one character per account */
  stateTable: AccountState[];
  /** every distinct maintenance window, referenced by index */
  windowTable: MaintenanceWindow[];
  /** what a record holds besides state and attempts (reason, error type, runbook, plan preview), by account id */
  extra: Record<string, Omit<AccountRecord, 's' | 'a'>>;
  /** records of accounts in no wave (none today), whole */
  outside?: Record<string, AccountRecord>;
};

export type PackedWave = Omit<WaveRecord, 'accountIds'> & {
  /** the wave's account ids, in order, joined by "," */
  ids: string;
  /** one character per account, aligned with `ids`: ` ` no record yet, else stateTable[code - 48] */
  states: string;
  /** index into windowTable per account, aligned with `ids` (-1: none); absent when no account of the wave has one */
  windows?: number[];
  /** attempts per account, aligned with `ids` (0: no record); absent when every record has one attempt */
  attempts?: number[];
};

const NO_RECORD = ' ';
const FIRST_CODE = 48; // '0'

/** The state as the next run carries it (see PackedCampaignState). Pure, deterministic. */
export function packState(st: CampaignState): PackedCampaignState {
  const { waves, accounts, windows, ...rest } = st;
  const stateTable: AccountState[] = [];
  const stateCode = new Map<AccountState, string>();
  const windowTable: MaintenanceWindow[] = [];
  const windowIndex = new Map<string, number>();
  const extra: PackedCampaignState['extra'] = {};
  const outside: Record<string, AccountRecord> = {};
  const inWaves = new Set<string>();
  const codeOf = (s: AccountState): string => {
    let code = stateCode.get(s);
    if (code === undefined) {
      code = String.fromCharCode(FIRST_CODE + stateTable.length);
      stateTable.push(s);
      stateCode.set(s, code);
    }
    return code;
  };
  const windowOf = (w: MaintenanceWindow | undefined): number => {
    if (!w) return -1;
    const key = JSON.stringify(w);
    let i = windowIndex.get(key);
    if (i === undefined) {
      i = windowTable.length;
      windowTable.push(w);
      windowIndex.set(key, i);
    }
    return i;
  };
  let problems = 0;
  const packed = waves.map(({ accountIds, ...wave }): PackedWave => {
    let states = '';
    const ws = accountIds.map((id) => windowOf(windows[id]));
    for (const id of accountIds) {
      inWaves.add(id);
      const rec =
        accounts[id] && isProblem(accounts[id].s) && ++problems > MAX_STATUS_PROBLEMS
          ? withoutReason(accounts[id])
          : accounts[id];
      states += rec ? codeOf(rec.s) : NO_RECORD;
      if (rec) {
        const { s: _s, a: _a, ...more } = rec;
        if (Object.keys(more).length) extra[id] = more;
      }
    }
    const attempts = accountIds.map((id) => accounts[id]?.a ?? 0);
    return {
      ...wave,
      ids: accountIds.join(','),
      states,
      ...(ws.some((i) => i >= 0) ? { windows: ws } : {}),
      ...(attempts.some((a, i) => a !== (states[i] === NO_RECORD ? 0 : 1)) ? { attempts } : {}),
    };
  });
  // A record of an account in no wave (none today) is kept whole rather than lost.
  for (const [id, rec] of Object.entries(accounts)) if (!inWaves.has(id)) outside[id] = rec;
  const out = Object.keys(outside).length ? { outside } : {};
  return { ...rest, packed: 1, waves: packed, stateTable, windowTable, extra, ...out };
}

/** The state a run starts from: a packed carry unpacked, a carry from before packing as it is. */
export function unpackState(carry: CampaignState | PackedCampaignState): CampaignState {
  if (!isPacked(carry)) return carry;
  const { packed: _packed, waves, stateTable, windowTable, extra, outside, ...rest } = carry;
  const accounts: Record<string, AccountRecord> = {};
  const windows: CampaignState['windows'] = {};
  const unpacked = waves.map(({ ids, states, windows: ws, attempts, ...wave }): WaveRecord => {
    const accountIds = ids === '' ? [] : ids.split(',');
    if (states.length !== accountIds.length)
      throw new Error(`carried wave ${wave.name}: ${accountIds.length} ids but ${states.length} states`);
    accountIds.forEach((id, i) => {
      const code = states[i];
      if (code !== NO_RECORD)
        accounts[id] = { s: stateTable[code.charCodeAt(0) - FIRST_CODE], a: attempts?.[i] ?? 1, ...extra[id] };
      const w = ws?.[i] ?? -1;
      if (w >= 0) windows[id] = windowTable[w];
    });
    return { ...wave, accountIds };
  });
  for (const [id, rec] of Object.entries(outside ?? {})) accounts[id] = rec;
  return { ...rest, waves: unpacked, accounts, windows };
}

export function isPacked(carry: CampaignState | PackedCampaignState): carry is PackedCampaignState {
  return (carry as PackedCampaignState).packed === 1;
}

/** A problem past the ones the status lists: its state and attempts (see PackedCampaignState). */
function withoutReason(rec: AccountRecord): AccountRecord {
  const { r: _r, e: _e, rb: _rb, ...rest } = rec;
  return rest;
}
