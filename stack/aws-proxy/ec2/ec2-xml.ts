/**
 * A small element tree for the XML moto answers EC2 and Auto Scaling calls with (well-formed, no
 * mixed content): parse, find children, render back. Enough to merge `<item>`s into a set, read a
 * launch template version's data and answer in AWS's wire format.
 */
import { xmlEscape } from '../core/aws-errors';
import { decodeXml } from '../core/moto-query';

export interface XmlElement {
  name: string;
  /** The raw attribute text of the start tag (e.g. ` xmlns="…"`), kept as is. */
  attrs: string;
  children: XmlElement[];
  /** Decoded text of a leaf element ('' for containers). */
  text: string;
}

const TOKEN = /<(\/?)([A-Za-z_][\w.-]*)([^>]*?)(\/?)>|([^<]+)/g;

/** Parses one XML document (declaration and comments skipped) into its root element. */
export function parseXml(xml: string): XmlElement {
  const body = xml.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  const root: XmlElement = { name: '#document', attrs: '', children: [], text: '' };
  const stack: XmlElement[] = [root];
  for (const m of body.matchAll(TOKEN)) {
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      if (m[5].trim() !== '') top.text += decodeXml(m[5]);
      continue;
    }
    const [, closing, name, attrs, selfClosing] = m;
    if (closing) {
      if (top.name !== name || stack.length === 1) throw new Error(`malformed XML: unexpected </${name}>`);
      stack.pop();
      continue;
    }
    const el: XmlElement = { name, attrs: attrs ?? '', children: [], text: '' };
    top.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new Error('malformed XML: unbalanced document');
  return root.children[0];
}

export function renderXml(el: XmlElement): string {
  const inner = el.children.length > 0 ? el.children.map(renderXml).join('') : xmlEscape(el.text);
  return inner === '' ? `<${el.name}${el.attrs}/>` : `<${el.name}${el.attrs}>${inner}</${el.name}>`;
}

/** Renders a whole document with the XML declaration moto and AWS put first. */
export function renderXmlDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderXml(root)}`;
}

export function childOf(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** The first element named `name` anywhere below `el` (depth first). */
export function findElement(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) {
    if (c.name === name) return c;
    const deeper = findElement(c, name);
    if (deeper) return deeper;
  }
  return undefined;
}

/** The text of `el`'s child `name`, if present. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  return childOf(el, name)?.text;
}

/** A leaf element. */
export function leaf(name: string, text: string): XmlElement {
  return { name, attrs: '', children: [], text };
}

/** A container element. */
export function node(name: string, children: Array<XmlElement | undefined>): XmlElement {
  return { name, attrs: '', children: children.filter((c): c is XmlElement => c !== undefined), text: '' };
}
