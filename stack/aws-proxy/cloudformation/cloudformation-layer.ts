/**
 * The CloudFormation layer of the proxy: the CloudFormation behaviours moto lacks, always on or
 * driven by the fault plan's `cloudformation` section.
 *
 * Always on:
 *  - ClientRequestToken (ClientToken for CreateChangeSet) idempotency on CreateStack, UpdateStack,
 *    DeleteStack, CreateChangeSet, ExecuteChangeSet, ContinueUpdateRollback: the first successful
 *    answer is replayed, the request is not forwarded again.
 *  - A change set executes once: executing it again (without the first token) is refused with
 *    InvalidChangeSetStatus; an update makes the stack's other change sets OBSOLETE.
 *  - Change sets named by name are forwarded to moto by ARN (moto looks names up across stacks).
 *  - The execution ledger (see change-set-ledger.ts).
 * Plan driven: slow updates, poisoned versions (rollback), rollback failures, replacement details,
 * health alarms firing after a deploy, stacks busy with someone else's update.
 *
 * Statuses come from recorded times compared with `now()`; only delayed alarms use a timer.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { renderQueryError } from '../core/aws-errors';
import { ChangeSetLedger, type ChangeSetExecution } from './change-set-ledger';
import {
  CloudFormationOverlay,
  blocksUpdates,
  changeSetExecutionStatus,
  terminalStatusFor,
  type ChangeSetRecord,
  type ChangeSetType,
  type StackOverlay,
  type StackRef,
} from './cloudformation-overlay';
import {
  alarmTriggers,
  decideUpdateOutcome,
  isStackBusy,
  replacedResourceTypes,
  type CloudFormationPlan,
  type DeployTarget,
} from './cloudformation-faults';
import {
  appendContainerMembers,
  containerMembers,
  explicitParameter,
  filterContainerMembers,
  isChangeSetArn,
  renderCloudFormationResult,
  replacementChangeXml,
  rewriteContainerMembers,
  setXmlText,
  stackNameOf,
  xmlEscape,
  xmlParameters,
  xmlText,
} from './cloudformation-xml';
import type { RequestInfo } from '../core/request-info';
import { RequestTokens, type TokenScope } from './request-tokens';
import type { BufferedResponse, UpstreamForwarder } from '../core/upstream-forwarder';

/** The parameter whose value is a pipeline stack's version. */
export const VERSION_PARAMETER = 'PipelineVersion';

export interface CloudFormationRequest {
  info: RequestInfo;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface LayerResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** For the proxy's log line, e.g. `forwarded`, `simulated-rolled-back`, `replayed-token`. */
  outcome: string;
  /** Whether this request itself was forwarded to moto (for the proxy stats). */
  forwarded: boolean;
}

export interface FiredAlarm {
  account: string;
  region: string;
  alarmName: string;
  stackName: string;
  version: string;
  at: string;
  /** `ALARM` when set, else what went wrong. */
  result: string;
  /** The alarm did not exist in moto and the proxy created a placeholder first. */
  created: boolean;
}

export interface CloudFormationLayerOptions {
  forwarder: UpstreamForwarder;
  /** The current `cloudformation` plan section and when the plan was installed. */
  plan: () => { plan: CloudFormationPlan | undefined; setAt: number };
  logger?: (line: string) => void;
  now?: () => number;
}

const HANDLED_ACTIONS = new Set([
  'CreateStack',
  'UpdateStack',
  'DeleteStack',
  'DescribeStacks',
  'ListStacks',
  'ContinueUpdateRollback',
  'CreateChangeSet',
  'ExecuteChangeSet',
  'DescribeChangeSet',
  'ListChangeSets',
  'DeleteChangeSet',
]);

const DEFAULT_REGION = 'us-east-1';
const MAX_FIRED_ALARMS = 1000;

function isOk(res: { status: number }): boolean {
  return res.status >= 200 && res.status < 300;
}

interface Ctx {
  req: CloudFormationRequest;
  account: string;
  region: string;
  accessKeyId: string;
  params: URLSearchParams;
}

interface TemplateResource {
  logicalId: string;
  type: string;
  physicalId?: string;
}

/** Logical id → type of a JSON or YAML template's resources (short-form tags are tolerated). */
export function templateResourceTypes(templateBody: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(templateBody);
  } catch {
    try {
      doc = parseYaml(templateBody, { logLevel: 'silent' });
    } catch {
      return new Map();
    }
  }
  const resources = (doc as { Resources?: Record<string, { Type?: unknown }> } | null)?.Resources ?? {};
  const out = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (typeof resource?.Type === 'string') out.set(logicalId, resource.Type);
  }
  return out;
}

export class CloudFormationLayer {
  readonly overlay = new CloudFormationOverlay();
  readonly ledger = new ChangeSetLedger();
  private readonly tokens = new RequestTokens<LayerResponse>(isOk);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly firedAlarms: FiredAlarm[] = [];
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly opts: CloudFormationLayerOptions) {
    this.log = opts.logger ?? (() => undefined);
    this.now = opts.now ?? Date.now;
  }

  /** Whether this layer answers the request (query-protocol CloudFormation calls it knows). */
  handles(info: RequestInfo): boolean {
    return info.service === 'cloudformation' && info.protocol === 'query' && HANDLED_ACTIONS.has(info.action);
  }

  async handle(req: CloudFormationRequest): Promise<LayerResponse> {
    const ctx: Ctx = {
      req,
      account: req.info.account,
      region: req.info.region ?? DEFAULT_REGION,
      accessKeyId: req.info.accessKeyId ?? 'testing',
      params: req.info.params,
    };
    switch (req.info.action) {
      case 'CreateStack':
        return this.createStack(ctx);
      case 'UpdateStack':
        return this.updateStack(ctx);
      case 'DeleteStack':
        return this.deleteStack(ctx);
      case 'DescribeStacks':
      case 'ListStacks':
        return this.describeStacks(ctx);
      case 'ContinueUpdateRollback':
        return this.continueUpdateRollback(ctx);
      case 'CreateChangeSet':
        return this.createChangeSet(ctx);
      case 'ExecuteChangeSet':
        return this.executeChangeSet(ctx);
      case 'DescribeChangeSet':
        return this.describeChangeSet(ctx);
      case 'ListChangeSets':
        return this.listChangeSets(ctx);
      case 'DeleteChangeSet':
        return this.deleteChangeSet(ctx);
      default:
        return this.passThrough(await this.forward(ctx));
    }
  }

  executions(): ChangeSetExecution[] {
    return this.ledger.list();
  }

  /** Admin view of everything the layer holds. */
  snapshot(): Record<string, unknown> {
    const now = this.now();
    return {
      ...this.overlay.snapshot(now),
      tokens: this.tokens.size,
      pendingAlarms: this.timers.size,
      alarms: [...this.firedAlarms],
      executions: this.ledger.list(),
    };
  }

  /** Forgets all simulated state (overlays, change sets, tokens, ledger, pending alarms). */
  reset(): void {
    this.clearTimers();
    this.overlay.reset();
    this.ledger.reset();
    this.tokens.reset();
    this.firedAlarms.length = 0;
  }

  close(): void {
    this.clearTimers();
  }

  // ---------------------------------------------------------------- stacks

  private createStack(ctx: Ctx): Promise<LayerResponse> {
    const ref = this.stackRef(ctx, ctx.params.get('StackName'));
    return this.withToken(ctx, 'CreateStack', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
      const res = await this.forward(ctx);
      if (isOk(res)) {
        this.overlay.forgetStack(ref);
        const stackId = xmlText(res.body.toString('utf8'), 'StackId');
        if (stackId) this.overlay.rememberStackId(ref, stackId);
      }
      return this.passThrough(res);
    });
  }

  private deleteStack(ctx: Ctx): Promise<LayerResponse> {
    const ref = this.stackRef(ctx, ctx.params.get('StackName'));
    return this.withToken(ctx, 'DeleteStack', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
      const res = await this.forward(ctx);
      if (isOk(res)) this.overlay.forgetStack(ref);
      return this.passThrough(res);
    });
  }

  private updateStack(ctx: Ctx): Promise<LayerResponse> {
    const ref = this.stackRef(ctx, ctx.params.get('StackName'));
    return this.withToken(ctx, 'UpdateStack', ref.stackName, ctx.params.get('ClientRequestToken'), async () => {
      const stackId = await this.resolveStackId(ctx, ref);
      if (!stackId) return this.passThrough(await this.forward(ctx)); // moto answers "does not exist"
      // From here to marking the update there is no await: concurrent updates cannot both pass.
      const now = this.now();
      const refused = this.refuseIfBlocked(ref, stackId, now);
      if (refused) return refused;
      const { plan } = this.opts.plan();
      const target: DeployTarget = {
        account: ref.account,
        region: ref.region,
        version: explicitParameter(ctx.params, VERSION_PARAMETER),
      };
      const outcome = decideUpdateOutcome(plan, target);
      const durationMs = plan?.updateDurationMs ?? 0;
      const previous = this.overlay.overlayOf(ref);
      this.overlay.setOverlay(
        this.updateOverlay(ref, stackId, now, durationMs, terminalStatusFor(outcome), 'UpdateStack'),
      );
      const undoObsolete = this.overlay.obsoleteOthers(ref);
      const undo = (): void => {
        undoObsolete();
        this.overlay.restoreOverlay(ref, previous);
      };
      if (outcome !== 'applied') {
        this.log(
          `aws-proxy cloudformation UpdateStack ${ref.account}/${ref.region}/${ref.stackName} version=${target.version} simulated ${outcome}`,
        );
        return this.answer(
          renderCloudFormationResult('UpdateStack', `<StackId>${xmlEscape(stackId)}</StackId>`),
          `simulated-${outcome}`,
        );
      }
      let res: BufferedResponse;
      try {
        res = await this.forward(ctx);
      } catch (err) {
        undo();
        throw err;
      }
      if (!isOk(res)) {
        undo();
        return this.passThrough(res);
      }
      await this.fireAlarms(ctx, ref.stackName, target);
      return this.passThrough(res);
    });
  }

  private continueUpdateRollback(ctx: Ctx): Promise<LayerResponse> {
    const ref = this.stackRef(ctx, ctx.params.get('StackName'));
    return this.withToken(
      ctx,
      'ContinueUpdateRollback',
      ref.stackName,
      ctx.params.get('ClientRequestToken'),
      async () => {
        const stackId = await this.resolveStackId(ctx, ref);
        if (!stackId) return this.validationError(`Stack [${ref.stackName}] does not exist`);
        const now = this.now();
        if (this.overlay.statusOf(ref, now, stackId) !== 'UPDATE_ROLLBACK_FAILED' || this.isBusy(ref, now)) {
          return this.validationError('ContinueUpdateRollback cannot be called from current stack status');
        }
        const durationMs = this.opts.plan().plan?.updateDurationMs ?? 0;
        this.overlay.setOverlay({
          ...this.updateOverlay(ref, stackId, now, durationMs, 'UPDATE_ROLLBACK_COMPLETE', 'ContinueUpdateRollback'),
          inProgress: 'UPDATE_ROLLBACK_IN_PROGRESS',
        });
        return this.answer(renderCloudFormationResult('ContinueUpdateRollback', ''), 'simulated-continue-rollback');
      },
    );
  }

  private async describeStacks(ctx: Ctx): Promise<LayerResponse> {
    const res = await this.forward(ctx);
    if (!isOk(res)) return this.passThrough(res);
    const describe = ctx.req.info.action === 'DescribeStacks';
    const now = this.now();
    const xml = res.body.toString('utf8');
    const rewritten = rewriteContainerMembers(xml, describe ? 'Stacks' : 'StackSummaries', (inner) => {
      const stackName = xmlText(inner, 'StackName');
      const stackId = xmlText(inner, 'StackId');
      const motoStatus = xmlText(inner, 'StackStatus');
      if (!stackName || !motoStatus) return inner;
      const ref: StackRef = { account: ctx.account, region: ctx.region, stackName };
      if (describe && stackId && !motoStatus.startsWith('DELETE_')) this.overlay.rememberStackId(ref, stackId);
      const status = this.simulatedStatus(ref, now, stackId, motoStatus);
      return status && status !== motoStatus ? setXmlText(inner, 'StackStatus', status) : inner;
    });
    return this.passThrough(res, rewritten === xml ? undefined : rewritten);
  }

  // ---------------------------------------------------------------- change sets

  private createChangeSet(ctx: Ctx): Promise<LayerResponse> {
    const ref = this.stackRef(ctx, ctx.params.get('StackName'));
    const type = (ctx.params.get('ChangeSetType') ?? 'CREATE').toUpperCase() as ChangeSetType;
    const changeSetName = ctx.params.get('ChangeSetName') ?? '';
    return this.withToken(ctx, 'CreateChangeSet', ref.stackName, ctx.params.get('ClientToken'), async () => {
      if (type !== 'CREATE') {
        const stackId = await this.resolveStackId(ctx, ref);
        const refused = stackId ? this.refuseIfBlocked(ref, stackId, this.now()) : undefined;
        if (refused) return refused;
      }
      const res = await this.forward(ctx);
      if (isOk(res)) {
        const xml = res.body.toString('utf8');
        const arn = xmlText(xml, 'Id');
        const stackId = xmlText(xml, 'StackId');
        if (arn && stackId) {
          this.overlay.rememberChangeSet({
            ...ref,
            changeSetName,
            arn,
            stackId,
            type,
            version: explicitParameter(ctx.params, VERSION_PARAMETER),
          });
        }
      }
      return this.passThrough(res);
    });
  }

  private async executeChangeSet(ctx: Ctx): Promise<LayerResponse> {
    const record = this.knownChangeSet(ctx) ?? (await this.lookupChangeSet(ctx));
    if (!record) return this.passThrough(await this.forward(ctx), undefined, 'forwarded(unknown-change-set)');
    return this.withToken(ctx, 'ExecuteChangeSet', record.stackName, ctx.params.get('ClientRequestToken'), () =>
      this.executeKnownChangeSet(ctx, record),
    );
  }

  private async executeKnownChangeSet(ctx: Ctx, record: ChangeSetRecord): Promise<LayerResponse> {
    // No await until the execution is marked: a concurrent second execute sees it.
    const now = this.now();
    const current = changeSetExecutionStatus(record, now);
    if (current) {
      return this.answer(
        renderQueryError('cloudformation', {
          status: 400,
          type: 'Sender',
          code: 'InvalidChangeSetStatus',
          message: `ChangeSet [${record.arn}] cannot be executed in its current status of [${current}]`,
        }),
        `refused(${current})`,
      );
    }
    const refused = this.refuseIfBlocked(record, record.stackId, now);
    if (refused) return refused;

    const { plan } = this.opts.plan();
    const isUpdate = record.type === 'UPDATE';
    const target: DeployTarget = { account: record.account, region: record.region, version: record.version };
    const outcome = isUpdate ? decideUpdateOutcome(plan, target) : 'applied';
    const durationMs = isUpdate ? (plan?.updateDurationMs ?? 0) : 0;
    record.execution = { at: now, endsAt: now + durationMs, outcome };
    const undoObsolete = this.overlay.obsoleteOthers(record, record.arn);
    const previous = this.overlay.overlayOf(record);
    if (isUpdate) {
      this.overlay.setOverlay(
        this.updateOverlay(
          record,
          record.stackId,
          now,
          durationMs,
          terminalStatusFor(outcome),
          `ExecuteChangeSet ${record.changeSetName}`,
        ),
      );
    }
    const undo = (): void => {
      record.execution = undefined;
      undoObsolete();
      this.overlay.restoreOverlay(record, previous);
    };
    const ledgerEntry = {
      account: record.account,
      region: record.region,
      stackName: record.stackName,
      changeSetName: record.changeSetName,
      version: record.version,
    };

    if (outcome !== 'applied') {
      this.ledger.record(ledgerEntry);
      this.log(
        `aws-proxy cloudformation ExecuteChangeSet ${record.account}/${record.region}/${record.stackName}/${record.changeSetName} version=${record.version} simulated ${outcome}`,
      );
      return this.answer(renderCloudFormationResult('ExecuteChangeSet', ''), `simulated-${outcome}`);
    }

    let res: BufferedResponse;
    try {
      res = await this.forward(ctx, { ChangeSetName: record.arn });
    } catch (err) {
      undo();
      throw err;
    }
    if (!isOk(res)) {
      undo();
      return this.passThrough(res);
    }
    this.ledger.record(ledgerEntry);
    await this.fireAlarms(ctx, record.stackName, target);
    return this.passThrough(res);
  }

  private async describeChangeSet(ctx: Ctx): Promise<LayerResponse> {
    const known = this.knownChangeSet(ctx);
    const res = await this.forward(ctx, known ? { ChangeSetName: known.arn } : undefined);
    if (!isOk(res)) return this.passThrough(res);
    let xml = res.body.toString('utf8');
    const original = xml;
    const arn = xmlText(xml, 'ChangeSetId');
    const record = known ?? (arn ? this.overlay.changeSetByArn(arn) : undefined);
    const status = record ? changeSetExecutionStatus(record, this.now()) : undefined;
    if (status) xml = setXmlText(xml, 'ExecutionStatus', status);

    const { plan } = this.opts.plan();
    const version = xmlParameters(xml)[VERSION_PARAMETER];
    const types = replacedResourceTypes(plan, { account: ctx.account, region: ctx.region, version });
    if (types.length > 0) xml = await this.addReplacements(ctx, xml, types);
    return this.passThrough(res, xml === original ? undefined : xml);
  }

  private async listChangeSets(ctx: Ctx): Promise<LayerResponse> {
    const res = await this.forward(ctx);
    if (!isOk(res)) return this.passThrough(res);
    const now = this.now();
    const xml = res.body.toString('utf8');
    // moto lists the change sets of every stack in the region: keep the named stack's only
    const stack = ctx.params.get('StackName');
    const ofStack = stack
      ? filterContainerMembers(xml, 'Summaries', (inner) =>
          stack.startsWith('arn:') ? xmlText(inner, 'StackId') === stack : xmlText(inner, 'StackName') === stack,
        )
      : xml;
    const rewritten = rewriteContainerMembers(ofStack, 'Summaries', (inner) => {
      const arn = xmlText(inner, 'ChangeSetId');
      const record = arn ? this.overlay.changeSetByArn(arn) : undefined;
      const status = record ? changeSetExecutionStatus(record, now) : undefined;
      return status ? setXmlText(inner, 'ExecutionStatus', status) : inner;
    });
    return this.passThrough(res, rewritten === xml ? undefined : rewritten);
  }

  private async deleteChangeSet(ctx: Ctx): Promise<LayerResponse> {
    const known = this.knownChangeSet(ctx);
    const res = await this.forward(ctx, known ? { ChangeSetName: known.arn } : undefined);
    if (isOk(res) && known) this.overlay.forgetChangeSet(known);
    return this.passThrough(res);
  }

  /** The change set a request names (by ARN, or by name + StackName), if the proxy saw it created. */
  private knownChangeSet(ctx: Ctx): ChangeSetRecord | undefined {
    const name = ctx.params.get('ChangeSetName') ?? '';
    if (isChangeSetArn(name)) return this.overlay.changeSetByArn(name);
    const stack = ctx.params.get('StackName');
    return stack ? this.overlay.changeSetByName(this.stackRef(ctx, stack), name) : undefined;
  }

  /** A change set created before the proxy knew it (e.g. the proxy restarted): ask moto. */
  private async lookupChangeSet(ctx: Ctx): Promise<ChangeSetRecord | undefined> {
    const name = ctx.params.get('ChangeSetName');
    if (!name) return undefined;
    const stack = ctx.params.get('StackName');
    const res = await this.motoQuery(ctx, 'cloudformation', {
      Action: 'DescribeChangeSet',
      ChangeSetName: name,
      ...(stack ? { StackName: stack } : {}),
    });
    if (!isOk(res)) return undefined;
    const xml = res.body.toString('utf8');
    const arn = xmlText(xml, 'ChangeSetId');
    const stackId = xmlText(xml, 'StackId');
    const stackName = xmlText(xml, 'StackName');
    const executionStatus = xmlText(xml, 'ExecutionStatus');
    if (!arn || !stackId || !stackName) return undefined;
    if (stack && stackNameOf(stack) !== stackName) return undefined; // moto found a namesake on another stack
    if (executionStatus !== 'AVAILABLE' && executionStatus !== 'EXECUTE_COMPLETE') return undefined;
    const record: ChangeSetRecord = {
      account: ctx.account,
      region: ctx.region,
      stackName,
      changeSetName: xmlText(xml, 'ChangeSetName') ?? name,
      arn,
      stackId,
      type: 'UPDATE',
      version: xmlParameters(xml)[VERSION_PARAMETER],
    };
    if (executionStatus === 'EXECUTE_COMPLETE') record.execution = { at: 0, endsAt: 0, outcome: 'applied' };
    this.overlay.rememberChangeSet(record);
    return record;
  }

  private async addReplacements(ctx: Ctx, xml: string, types: string[]): Promise<string> {
    const stack = xmlText(xml, 'StackId') ?? xmlText(xml, 'StackName');
    if (!stack) return xml;
    const resources = (await this.stackResources(ctx, stack)).filter((r) => types.includes(r.type));
    if (resources.length === 0) return xml;
    const byLogicalId = new Map(resources.map((r) => [r.logicalId, r]));
    const covered = new Set<string>();
    let out = rewriteContainerMembers(xml, 'Changes', (inner) => {
      const logicalId = xmlText(inner, 'LogicalResourceId');
      const resource = logicalId ? byLogicalId.get(logicalId) : undefined;
      if (!resource) return inner;
      covered.add(resource.logicalId);
      const action = xmlText(inner, 'Action');
      if (action !== 'Modify') return inner; // an Add or Remove stays what it is
      return replacementChangeXml(resource.logicalId, resource.type, resource.physicalId);
    });
    const missing = resources.filter((r) => !covered.has(r.logicalId));
    out = appendContainerMembers(
      out,
      'Changes',
      missing.map((r) => replacementChangeXml(r.logicalId, r.type, r.physicalId)),
    );
    return out;
  }

  /**
   * The stack's resources: types from its template (moto drops the type of some resources from
   * DescribeStackResources after an update), physical ids from DescribeStackResources.
   */
  private async stackResources(ctx: Ctx, stack: string): Promise<TemplateResource[]> {
    const template = await this.motoQuery(ctx, 'cloudformation', { Action: 'GetTemplate', StackName: stack });
    if (!isOk(template)) return [];
    const types = templateResourceTypes(xmlText(template.body.toString('utf8'), 'TemplateBody') ?? '');
    const physical = new Map<string, string>();
    const described = await this.motoQuery(ctx, 'cloudformation', {
      Action: 'DescribeStackResources',
      StackName: stack,
    });
    if (isOk(described)) {
      for (const m of containerMembers(described.body.toString('utf8'), 'StackResources')) {
        const logicalId = xmlText(m.inner, 'LogicalResourceId');
        const physicalId = xmlText(m.inner, 'PhysicalResourceId');
        if (logicalId && physicalId) physical.set(logicalId, physicalId);
      }
    }
    return [...types].map(([logicalId, type]) => ({ logicalId, type, physicalId: physical.get(logicalId) }));
  }

  // ---------------------------------------------------------------- alarms

  private async fireAlarms(ctx: Ctx, stackName: string, target: DeployTarget): Promise<void> {
    const { account, region, accessKeyId } = ctx;
    for (const trigger of alarmTriggers(this.opts.plan().plan, stackName, target)) {
      const fire = (): Promise<void> =>
        this.setAlarm({ account, region, accessKeyId }, trigger.alarmName, stackName, target.version ?? '').catch(
          (err: unknown) =>
            this.log(
              `aws-proxy cloudformation alarm ${trigger.alarmName} in ${account}/${region} failed: ${(err as Error).message}`,
            ),
        );
      if (trigger.afterMs === 0) {
        await fire();
        continue;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void fire();
      }, trigger.afterMs);
      timer.unref();
      this.timers.add(timer);
    }
  }

  /** SetAlarmState ALARM in moto, signed with an access key of that account (creating a placeholder alarm if moto has none). */
  private async setAlarm(
    auth: Pick<Ctx, 'account' | 'region' | 'accessKeyId'>,
    alarmName: string,
    stackName: string,
    version: string,
  ): Promise<void> {
    const reason = `fleetops aws-proxy: simulated health alarm after ${stackName} moved to ${version}`;
    const set = (): Promise<BufferedResponse> =>
      this.motoQuery(auth, 'monitoring', {
        Action: 'SetAlarmState',
        AlarmName: alarmName,
        StateValue: 'ALARM',
        StateReason: reason,
      });
    let res = await set();
    let created = false;
    if (!isOk(res) && res.body.toString('utf8').includes('ResourceNotFound')) {
      // moto 5.2.5 does not create AWS::CloudWatch::Alarm stack resources: stand one in.
      const put = await this.motoQuery(auth, 'monitoring', {
        Action: 'PutMetricAlarm',
        AlarmName: alarmName,
        AlarmDescription: `placeholder created by the fleetops aws-proxy for stack ${stackName}`,
        Namespace: 'fleetops/simulated',
        MetricName: 'PipelineHealth',
        Statistic: 'Sum',
        Period: '60',
        EvaluationPeriods: '1',
        Threshold: '1',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      created = isOk(put);
      if (created) res = await set();
    }
    const result = isOk(res) ? 'ALARM' : `SetAlarmState failed: HTTP ${res.status}`;
    this.firedAlarms.push({
      account: auth.account,
      region: auth.region,
      alarmName,
      stackName,
      version,
      at: new Date(this.now()).toISOString(),
      result,
      created,
    });
    if (this.firedAlarms.length > MAX_FIRED_ALARMS) this.firedAlarms.shift();
    this.log(
      `aws-proxy cloudformation alarm ${alarmName} in ${auth.account}/${auth.region} → ${result}${created ? ' (placeholder created)' : ''}`,
    );
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ---------------------------------------------------------------- helpers

  private stackRef(ctx: Ctx, stackNameOrId: string | null): StackRef {
    return { account: ctx.account, region: ctx.region, stackName: stackNameOf(stackNameOrId ?? '') };
  }

  private isBusy(ref: StackRef, now: number): boolean {
    const { plan, setAt } = this.opts.plan();
    return isStackBusy(plan, setAt, now, ref);
  }

  /** The status the proxy reports instead of moto's, if any. */
  private simulatedStatus(
    ref: StackRef,
    now: number,
    stackId: string | undefined,
    motoStatus: string,
  ): string | undefined {
    if (motoStatus.startsWith('DELETE_') || motoStatus === 'REVIEW_IN_PROGRESS') return undefined;
    if (this.isBusy(ref, now)) return 'UPDATE_IN_PROGRESS';
    return this.overlay.statusOf(ref, now, stackId);
  }

  /** AWS's ValidationError when the stack's (simulated) status does not allow an update. Synchronous on purpose. */
  private refuseIfBlocked(ref: StackRef, stackId: string, now: number): LayerResponse | undefined {
    const status = this.isBusy(ref, now) ? 'UPDATE_IN_PROGRESS' : this.overlay.statusOf(ref, now, stackId);
    if (!blocksUpdates(status)) return undefined;
    return this.validationError(`Stack:${stackId} is in ${status} state and can not be updated.`);
  }

  private validationError(message: string): LayerResponse {
    return this.answer(
      renderQueryError('cloudformation', { status: 400, type: 'Sender', code: 'ValidationError', message }),
      'refused(validation)',
    );
  }

  /** The stack's ARN (cached, else asked from moto); undefined when moto does not know the stack. */
  private async resolveStackId(ctx: Ctx, ref: StackRef): Promise<string | undefined> {
    const known = this.overlay.stackIdOf(ref);
    if (known) return known;
    const res = await this.motoQuery(ctx, 'cloudformation', { Action: 'DescribeStacks', StackName: ref.stackName });
    if (!isOk(res)) return undefined;
    const stackId = xmlText(res.body.toString('utf8'), 'StackId');
    if (stackId) this.overlay.rememberStackId(ref, stackId);
    return stackId;
  }

  private updateOverlay(
    ref: StackRef,
    stackId: string,
    now: number,
    durationMs: number,
    terminal: StackOverlay['terminal'],
    cause: string,
  ): StackOverlay {
    return {
      account: ref.account,
      region: ref.region,
      stackName: ref.stackName,
      stackId,
      startedAt: now,
      endsAt: now + durationMs,
      inProgress: 'UPDATE_IN_PROGRESS',
      terminal,
      cause,
    };
  }

  private withToken(
    ctx: Ctx,
    action: string,
    stack: string,
    token: string | null,
    work: () => Promise<LayerResponse>,
  ): Promise<LayerResponse> {
    const scope: TokenScope | undefined = token
      ? { account: ctx.account, region: ctx.region, action, stack, token }
      : undefined;
    return this.tokens.run(scope, work, (first) => ({ ...first, outcome: 'replayed-token', forwarded: false }));
  }

  /**
   * Forwards the client's request to moto, optionally with some form fields replaced (only for
   * form-encoded bodies; moto does not check signatures).
   */
  private forward(ctx: Ctx, replace?: Record<string, string>): Promise<BufferedResponse> {
    const { req } = ctx;
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers['accept-encoding'];
    let body = req.body;
    const contentType = String(headers['content-type'] ?? '').toLowerCase();
    if (replace && body.length > 0 && contentType.startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(body.toString('utf8'));
      for (const [name, value] of Object.entries(replace)) if (form.has(name)) form.set(name, value);
      body = Buffer.from(form.toString());
    }
    return this.opts.forwarder.request(req.method, req.url, headers, body);
  }

  /** A query-protocol call of the proxy's own, signed (SigV4 header shape) with an access key of the account. */
  private motoQuery(
    auth: Pick<Ctx, 'region' | 'accessKeyId'>,
    service: 'cloudformation' | 'monitoring',
    params: Record<string, string>,
  ): Promise<BufferedResponse> {
    const amzDate = new Date(this.now()).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const version = service === 'cloudformation' ? '2010-05-15' : '2010-08-01';
    const body = Buffer.from(new URLSearchParams({ Version: version, ...params }).toString());
    const headers: IncomingHttpHeaders = {
      authorization:
        `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/${amzDate.slice(0, 8)}/${auth.region}/${service}/aws4_request, ` +
        `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-amz-date': amzDate,
    };
    return this.opts.forwarder.request('POST', '/', headers, body);
  }

  private passThrough(res: BufferedResponse, rewrittenXml?: string, outcome = 'forwarded'): LayerResponse {
    const body = rewrittenXml === undefined ? res.body : Buffer.from(rewrittenXml, 'utf8');
    return {
      status: res.status,
      headers: res.headers,
      body,
      outcome: rewrittenXml === undefined ? outcome : `${outcome}(rewritten)`,
      forwarded: true,
    };
  }

  private answer(
    res: { status: number; headers: Record<string, string>; body: Buffer },
    outcome: string,
  ): LayerResponse {
    return { status: res.status, headers: res.headers, body: res.body, outcome, forwarded: false };
  }
}
