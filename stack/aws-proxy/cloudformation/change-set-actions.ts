/**
 * CreateChangeSet, ExecuteChangeSet, DescribeChangeSet, ListChangeSets and DeleteChangeSet: token
 * idempotency, a change set executes once (others of the stack become OBSOLETE), simulated updates
 * with the execution ledger, replacement details, and change sets named by name sent to moto by ARN.
 */
import { PIPELINE_VERSION_PARAMETER } from '../../../fleet/pipeline-stack';
import { renderQueryError } from '../core/aws-errors';
import type { BufferedResponse } from '../core/upstream-forwarder';
import { decideUpdateOutcome, replacedResourceTypes, type DeployTarget } from './cloudformation-faults';
import {
  changeSetExecutionStatus,
  terminalStatusFor,
  type ChangeSetRecord,
  type ChangeSetType,
} from './cloudformation-overlay';
import {
  explicitParameter,
  filterContainerMembers,
  renderCloudFormationResult,
  rewriteContainerMembers,
  setXmlText,
  xmlParameters,
  xmlText,
} from './cloudformation-xml';
import { knownChangeSet, lookupChangeSet } from './change-set-lookup';
import { answer, passThrough } from './layer-answers';
import { isOk, stackRef, withToken, type CallContext, type LayerResponse } from './layer-context';
import { forwardToMoto } from './moto-calls';
import { addReplacements } from './replacement-details';
import { refuseIfBlocked, resolveStackId, updateOverlay } from './stack-status';

export function createChangeSet(ctx: CallContext): Promise<LayerResponse> {
  const { layer } = ctx;
  const ref = stackRef(ctx, ctx.params.get('StackName'));
  const type = (ctx.params.get('ChangeSetType') ?? 'CREATE').toUpperCase() as ChangeSetType;
  const changeSetName = ctx.params.get('ChangeSetName') ?? '';
  return withToken(ctx, 'CreateChangeSet', ref.stackName, ctx.params.get('ClientToken'), async () => {
    if (type !== 'CREATE') {
      const stackId = await resolveStackId(ctx, ref);
      const refused = stackId ? refuseIfBlocked(layer, ref, stackId, layer.now()) : undefined;
      if (refused) return refused;
    }
    const res = await forwardToMoto(ctx);
    if (isOk(res)) {
      const xml = res.body.toString('utf8');
      const arn = xmlText(xml, 'Id');
      const stackId = xmlText(xml, 'StackId');
      if (arn && stackId) {
        layer.overlay.rememberChangeSet({
          ...ref,
          changeSetName,
          arn,
          stackId,
          type,
          version: explicitParameter(ctx.params, PIPELINE_VERSION_PARAMETER),
          createdAt: layer.now(),
        });
      }
    }
    return passThrough(res);
  });
}

export async function executeChangeSet(ctx: CallContext): Promise<LayerResponse> {
  const record = knownChangeSet(ctx) ?? (await lookupChangeSet(ctx));
  if (!record) return passThrough(await forwardToMoto(ctx), undefined, 'forwarded(unknown-change-set)');
  return withToken(ctx, 'ExecuteChangeSet', record.stackName, ctx.params.get('ClientRequestToken'), () =>
    executeKnownChangeSet(ctx, record),
  );
}

async function executeKnownChangeSet(ctx: CallContext, record: ChangeSetRecord): Promise<LayerResponse> {
  const { layer } = ctx;
  const { overlay } = layer;
  // No await until the execution is marked: a concurrent second execute sees it.
  const now = layer.now();
  const current = changeSetExecutionStatus(record, now);
  if (current) {
    return answer(
      renderQueryError('cloudformation', {
        status: 400,
        type: 'Sender',
        code: 'InvalidChangeSetStatus',
        message: `ChangeSet [${record.arn}] cannot be executed in its current status of [${current}]`,
      }),
      `refused(${current})`,
    );
  }
  const refused = refuseIfBlocked(layer, record, record.stackId, now);
  if (refused) return refused;

  const { plan } = layer.plan();
  const isUpdate = record.type === 'UPDATE';
  const target: DeployTarget = { account: record.account, region: record.region, version: record.version };
  const outcome = isUpdate ? decideUpdateOutcome(plan, target) : 'applied';
  const durationMs = isUpdate ? (plan?.updateDurationMs ?? 0) : 0;
  record.execution = { at: now, endsAt: now + durationMs, outcome };
  const undoObsolete = overlay.obsoleteOthers(record, record.arn);
  const previous = overlay.overlayOf(record);
  if (isUpdate) {
    overlay.setOverlay(
      updateOverlay(
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
    overlay.restoreOverlay(record, previous);
  };
  const ledgerEntry = {
    account: record.account,
    region: record.region,
    stackName: record.stackName,
    changeSetName: record.changeSetName,
    version: record.version,
    createdAt: record.createdAt ?? null,
    executedAt: now,
    updateEndsAt: record.execution.endsAt,
  };

  if (outcome !== 'applied') {
    layer.ledger.record(ledgerEntry);
    layer.log(
      `aws-proxy cloudformation ExecuteChangeSet ${record.account}/${record.region}/${record.stackName}/${record.changeSetName} version=${record.version} simulated ${outcome}`,
    );
    return answer(renderCloudFormationResult('ExecuteChangeSet', ''), `simulated-${outcome}`);
  }

  let res: BufferedResponse;
  try {
    res = await forwardToMoto(ctx, { ChangeSetName: record.arn });
  } catch (err) {
    undo();
    throw err;
  }
  if (!isOk(res)) {
    undo();
    return passThrough(res);
  }
  layer.ledger.record(ledgerEntry);
  await layer.alarms.fire(ctx, record.stackName, target);
  return passThrough(res);
}

export async function describeChangeSet(ctx: CallContext): Promise<LayerResponse> {
  const { layer } = ctx;
  const known = knownChangeSet(ctx);
  const res = await forwardToMoto(ctx, known ? { ChangeSetName: known.arn } : undefined);
  if (!isOk(res)) return passThrough(res);
  let xml = res.body.toString('utf8');
  const original = xml;
  const arn = xmlText(xml, 'ChangeSetId');
  const record = known ?? (arn ? layer.overlay.changeSetByArn(arn) : undefined);
  const status = record ? changeSetExecutionStatus(record, layer.now()) : undefined;
  if (status) xml = setXmlText(xml, 'ExecutionStatus', status);

  const { plan } = layer.plan();
  const version = xmlParameters(xml)[PIPELINE_VERSION_PARAMETER];
  const types = replacedResourceTypes(plan, { account: ctx.account, region: ctx.region, version });
  if (types.length > 0) xml = await addReplacements(ctx, xml, types);
  return passThrough(res, xml === original ? undefined : xml);
}

export async function listChangeSets(ctx: CallContext): Promise<LayerResponse> {
  const { layer } = ctx;
  const res = await forwardToMoto(ctx);
  if (!isOk(res)) return passThrough(res);
  const now = layer.now();
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
    const record = arn ? layer.overlay.changeSetByArn(arn) : undefined;
    const status = record ? changeSetExecutionStatus(record, now) : undefined;
    return status ? setXmlText(inner, 'ExecutionStatus', status) : inner;
  });
  return passThrough(res, rewritten === xml ? undefined : rewritten);
}

export async function deleteChangeSet(ctx: CallContext): Promise<LayerResponse> {
  const known = knownChangeSet(ctx);
  const res = await forwardToMoto(ctx, known ? { ChangeSetName: known.arn } : undefined);
  if (isOk(res) && known) ctx.layer.overlay.forgetChangeSet(known);
  return passThrough(res);
}
