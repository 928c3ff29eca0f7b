/**
 * The contract between the campaign engine and its per-account child workflows (one per operation:
 * accountUpgrade today; accountSecretRotation and accountAmiRollout later). Pure types and
 * constants: imported by workflows, activities' callers and the CLI alike.
 */

export const OPERATIONS = ['upgrade'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The child workflow type that carries out each operation for one account. */
export const CHILD_WORKFLOW_OF: Record<Operation, string> = { upgrade: 'accountUpgrade' };

/** Parameters of an upgrade campaign (validated by the engine's input schema). */
export type UpgradeParams = {
  /** Pipeline version to move every selected account's stack to (semver). */
  targetVersion: string;
  /** CloudFormation types whose replacement or removal needs approval (default STATEFUL_RESOURCE_TYPES). */
  statefulResourceTypes: string[];
  /** What to do when a change set would replace/remove a stateful resource: wait for an approve, or skip the account. */
  onStatefulChange: 'approve' | 'skip';
  /** Health gate: how long to watch the pipeline's alarms after an update, and how often. */
  healthBakeSeconds: number;
  healthPollSeconds: number;
  /** How long to wait for a stack busy with someone else's update before quarantining the account. */
  busyStackWaitSeconds: number;
};

export const STATEFUL_RESOURCE_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::Kinesis::Stream',
  'AWS::EFS::FileSystem',
];

/** Input of every per-account child workflow. */
export type AccountOperationInput = {
  campaignId: string;
  operation: Operation;
  fleetFile: string;
  accountId: string;
  /** Wave name (e.g. canary-1), for search attributes and reports. */
  wave: string;
  /** Plan mode: preview only, change nothing. */
  plan: boolean;
  /** Attempt number: 1, then 2… when an operator retries the account. */
  attempt: number;
  upgrade?: UpgradeParams;
};

/** How an account ended. `failed` outcomes count against the wave's failure budget. */
export const ACCOUNT_OUTCOMES = {
  upgraded: 'ok',
  'already-current': 'ok',
  planned: 'ok',
  skipped: 'neutral',
  'rolled-back': 'failed',
  quarantined: 'failed',
  failed: 'failed',
} as const;
export type AccountOutcome = keyof typeof ACCOUNT_OUTCOMES;

/** What a plan-mode run found for one region. */
export type RegionPlan = {
  added: number;
  modified: number;
  replaced: number;
  removed: number;
  needsApproval: string[];
};

export type RegionResult = {
  region: string;
  outcome: AccountOutcome;
  fromVersion?: string;
  toVersion?: string;
  changeSetName?: string;
  plan?: RegionPlan;
  reason?: string;
};

/** Result of every per-account child workflow (compact: the engine keeps it for thousands of accounts). */
export type AccountOperationResult = {
  accountId: string;
  outcome: AccountOutcome;
  /** Why it failed, was quarantined, rolled back or skipped. */
  reason?: string;
  /** The runbook an operator should follow (docs/runbooks/…), for quarantines. */
  runbook?: string;
  /** Stable error type when the account failed on an error (AccountAccessDenied, StackInRollbackFailed, …). */
  errorType?: string;
  regions: RegionResult[];
};

/** Signal a child waits on when it needs an operator's approval (stateful change). */
export const APPROVE_ACCOUNT_SIGNAL = 'approveAccount';
/** Query a child answers with what it is doing now. */
export const ACCOUNT_PROGRESS_QUERY = 'accountProgress';
export type AccountProgress = { phase: string; region?: string; awaitingApproval?: string };
