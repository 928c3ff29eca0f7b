/**
 * Replacement details in change sets (the plan's `replacements`; moto never reports any): the
 * stack's resources of the listed types become `Replacement: True` changes in DescribeChangeSet.
 */
import { parse as parseYaml } from 'yaml';
import {
  appendContainerMembers,
  containerMembers,
  replacementChangeXml,
  rewriteContainerMembers,
  xmlText,
} from './cloudformation-xml';
import { isOk, type CallContext } from './layer-context';
import { motoQuery } from './moto-calls';

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

/** A DescribeChangeSet answer with every resource of `types` shown as replaced. */
export async function addReplacements(ctx: CallContext, xml: string, types: string[]): Promise<string> {
  const stack = xmlText(xml, 'StackId') ?? xmlText(xml, 'StackName');
  if (!stack) return xml;
  const resources = (await stackResources(ctx, stack)).filter((r) => types.includes(r.type));
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
async function stackResources(ctx: CallContext, stack: string): Promise<TemplateResource[]> {
  const template = await motoQuery(ctx.layer, ctx, 'cloudformation', { Action: 'GetTemplate', StackName: stack });
  if (!isOk(template)) return [];
  const types = templateResourceTypes(xmlText(template.body.toString('utf8'), 'TemplateBody') ?? '');
  const physical = new Map<string, string>();
  const described = await motoQuery(ctx.layer, ctx, 'cloudformation', {
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
