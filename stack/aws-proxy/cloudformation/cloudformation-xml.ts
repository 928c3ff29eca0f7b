/**
 * Small, pure helpers for CloudFormation's query protocol: reading form parameters, reading and
 * rewriting moto's XML answers (element by element, never re-serialising the whole document), and
 * rendering the few answers the proxy gives itself.
 */
import { randomUUID } from 'node:crypto';

export const CLOUDFORMATION_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

import { xmlEscape } from '../core/aws-errors';

export function xmlUnescape(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&');
}

/** Text of the first `<tag>…</tag>` (unescaped), `''` for `<tag/>`, undefined when absent. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?(?:/>|>([^<]*)</${tag}>)`).exec(xml);
  if (!m) return undefined;
  return m[1] === undefined ? '' : xmlUnescape(m[1]);
}

/** Replaces the text of the first `<tag>` element (`<tag/>` included); returns the input when absent. */
export function setXmlText(xml: string, tag: string, value: string): string {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?(?:/>|>[^<]*</${tag}>)`);
  return re.test(xml) ? xml.replace(re, `<${tag}>${xmlEscape(value)}</${tag}>`) : xml;
}

export interface XmlRange {
  /** Offset of the element's `<`. */
  start: number;
  /** Offset just after the element's closing `>`. */
  end: number;
  /** The element's content (between the tags). */
  inner: string;
}

/** The direct `<member>` children of the first `<container>` element. */
export function containerMembers(xml: string, container: string): XmlRange[] {
  const open = new RegExp(`<${container}(?:\\s[^>]*)?>`).exec(xml);
  if (!open) return [];
  const from = open.index + open[0].length;
  const close = xml.indexOf(`</${container}>`, from);
  const to = close < 0 ? xml.length : close;
  const tags = /<(\/?)member(\/?)>/g;
  tags.lastIndex = from;
  const members: XmlRange[] = [];
  let depth = 0;
  let start = -1;
  let innerStart = -1;
  for (let m = tags.exec(xml); m && m.index < to; m = tags.exec(xml)) {
    const closing = m[1] === '/';
    const selfClosing = m[2] === '/';
    if (selfClosing) {
      if (depth === 0) members.push({ start: m.index, end: m.index + m[0].length, inner: '' });
    } else if (!closing) {
      if (depth === 0) {
        start = m.index;
        innerStart = m.index + m[0].length;
      }
      depth++;
    } else {
      depth--;
      if (depth === 0 && start >= 0) {
        members.push({ start, end: m.index + m[0].length, inner: xml.slice(innerStart, m.index) });
        start = -1;
      }
    }
  }
  return members;
}

/** Rewrites each direct `<member>` of `container`; `rewrite` returns the new inner XML (or the same). */
export function rewriteContainerMembers(xml: string, container: string, rewrite: (inner: string) => string): string {
  const members = containerMembers(xml, container);
  let out = '';
  let last = 0;
  for (const m of members) {
    const inner = rewrite(m.inner);
    if (inner === m.inner) continue;
    out += xml.slice(last, m.start) + `<member>${inner}</member>`;
    last = m.end;
  }
  return last === 0 ? xml : out + xml.slice(last);
}

/** Drops the direct `<member>`s of `container` for which `keep` is false. */
export function filterContainerMembers(xml: string, container: string, keep: (inner: string) => boolean): string {
  let out = '';
  let last = 0;
  for (const m of containerMembers(xml, container)) {
    if (keep(m.inner)) continue;
    out += xml.slice(last, m.start);
    last = m.end;
  }
  return last === 0 ? xml : out + xml.slice(last);
}

/** Appends member XML strings to `<container>` (turning `<container/>` into an open element when needed). */
export function appendContainerMembers(xml: string, container: string, membersXml: string[]): string {
  if (membersXml.length === 0) return xml;
  const added = membersXml.map((m) => `<member>${m}</member>`).join('');
  const empty = new RegExp(`<${container}\\s*/>`);
  if (empty.test(xml)) return xml.replace(empty, `<${container}>${added}</${container}>`);
  const close = xml.indexOf(`</${container}>`);
  if (close >= 0) return xml.slice(0, close) + added + xml.slice(close);
  return xml;
}

/** `Parameters.member.N.ParameterKey/ParameterValue/UsePreviousValue` of a query request. */
export interface StackParameter {
  key: string;
  value?: string;
  usePreviousValue: boolean;
}

export function formParameters(params: URLSearchParams): StackParameter[] {
  const byIndex = new Map<number, StackParameter>();
  for (const [name, value] of params) {
    const m = /^Parameters\.member\.(\d+)\.(ParameterKey|ParameterValue|UsePreviousValue)$/.exec(name);
    if (!m) continue;
    const index = Number(m[1]);
    const entry = byIndex.get(index) ?? { key: '', usePreviousValue: false };
    if (m[2] === 'ParameterKey') entry.key = value;
    else if (m[2] === 'ParameterValue') entry.value = value;
    else entry.usePreviousValue = value.toLowerCase() === 'true';
    byIndex.set(index, entry);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, p]) => p)
    .filter((p) => p.key !== '');
}

/** The explicit value of parameter `key` (undefined when absent or `UsePreviousValue`). */
export function explicitParameter(params: URLSearchParams, key: string): string | undefined {
  const p = formParameters(params).find((x) => x.key === key);
  return p && !p.usePreviousValue ? p.value : undefined;
}

/** `<Parameters>` of a DescribeStacks / DescribeChangeSet member as a map. */
export function xmlParameters(xml: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of containerMembers(xml, 'Parameters')) {
    const key = xmlText(m.inner, 'ParameterKey');
    if (key) out[key] = xmlText(m.inner, 'ParameterValue') ?? '';
  }
  return out;
}

/** A stack name from a name or stack ARN (`arn:aws:cloudformation:r:a:stack/NAME/uuid`). */
export function stackNameOf(nameOrArn: string): string {
  const m = /^arn:aws[\w-]*:cloudformation:[^:]*:\d*:stack\/([^/]+)\//.exec(nameOrArn);
  return m ? m[1] : nameOrArn;
}

export function isChangeSetArn(value: string): boolean {
  return /^arn:aws[\w-]*:cloudformation:[^:]*:\d*:changeSet\//.test(value);
}

export interface QueryResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A successful CloudFormation query-protocol answer `<{Action}Response><{Action}Result>…`. */
export function renderCloudFormationResult(
  action: string,
  resultInnerXml: string,
  requestId: string = randomUUID(),
): QueryResponse {
  const result = resultInnerXml ? `<${action}Result>${resultInnerXml}</${action}Result>` : `<${action}Result/>`;
  const body = `<${action}Response xmlns="${CLOUDFORMATION_NS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: Buffer.from(body),
  };
}

/** A `<member>` of DescribeChangeSet's `<Changes>` saying the resource is modified by replacement. */
export function replacementChangeXml(logicalId: string, resourceType: string, physicalId?: string): string {
  return (
    `<Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>${xmlEscape(logicalId)}</LogicalResourceId>` +
    (physicalId ? `<PhysicalResourceId>${xmlEscape(physicalId)}</PhysicalResourceId>` : '') +
    `<ResourceType>${xmlEscape(resourceType)}</ResourceType><Replacement>True</Replacement><Scope><member>Properties</member></Scope>` +
    `<Details><member><Target><Attribute>Properties</Attribute><RequiresRecreation>Always</RequiresRecreation></Target>` +
    `<Evaluation>Static</Evaluation><ChangeSource>DirectModification</ChangeSource></member></Details></ResourceChange>`
  );
}
