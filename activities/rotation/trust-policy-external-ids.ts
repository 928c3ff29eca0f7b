/**
 * Reading and editing the ExternalIds an execution role's trust policy accepts: the values of
 * `StringEquals` on `sts:ExternalId` in its Allow statements for sts:AssumeRole. Pure. The values are
 * compared and edited here and never put into an error message.
 *
 * Only that form is edited. A policy whose ExternalId condition uses another operator (StringLike, a
 * negation, …), or that has no such statement, is refused (TrustPolicyUnsupported): guessing would risk
 * a lockout. Statements without an ExternalId condition and other condition keys are left as they are.
 */
import { ErrorType } from '../../fleet/error-types';
import { FleetOpsError } from '../aws/errors';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const EXTERNAL_ID_KEY = 'sts:externalid';

const unsupported = (roleArn: string, why: string) =>
  new FleetOpsError(ErrorType.TrustPolicyUnsupported, `trust policy of ${roleArn}: ${why}; nothing was changed`);

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function coversAssumeRole(statement: Rec): boolean {
  return asList(statement.Action).some((a) => /^(sts:(AssumeRole|\*)|\*)$/i.test(a));
}

/** A parsed trust policy and the ExternalId conditions fleetops may edit in it. */
export class TrustPolicyExternalIds {
  private readonly document: Rec;
  /** `StringEquals` blocks of Allow/sts:AssumeRole statements, with the key spelled as in the document. */
  private readonly conditions: Array<{ block: Rec; key: string }> = [];

  constructor(
    text: string,
    private readonly roleArn: string,
  ) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw unsupported(roleArn, 'the document is not JSON');
    }
    if (!isRecord(parsed)) throw unsupported(roleArn, 'the document is not a JSON object');
    this.document = parsed;
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
    for (const statement of statements) {
      if (!isRecord(statement) || !isRecord(statement.Condition)) continue;
      for (const [operator, tests] of Object.entries(statement.Condition)) {
        if (!isRecord(tests)) continue;
        const key = Object.keys(tests).find((k) => k.toLowerCase() === EXTERNAL_ID_KEY);
        if (key === undefined) continue;
        const editable = operator === 'StringEquals' && statement.Effect === 'Allow' && coversAssumeRole(statement);
        if (!editable) {
          throw unsupported(
            roleArn,
            `a statement (Effect ${String(statement.Effect)}) tests sts:ExternalId with ${operator} (only Allow sts:AssumeRole with StringEquals is edited)`,
          );
        }
        this.conditions.push({ block: tests, key });
      }
    }
    if (this.conditions.length === 0) {
      throw unsupported(
        roleArn,
        'no Allow statement for sts:AssumeRole has a StringEquals condition on sts:ExternalId',
      );
    }
  }

  /** Every ExternalId some statement accepts (each once). */
  accepted(): string[] {
    return [...new Set(this.conditions.flatMap(({ block, key }) => asList(block[key])))];
  }

  /** Whether every ExternalId statement accepts `externalId`. */
  accepts(externalId: string): boolean {
    return this.conditions.every(({ block, key }) => asList(block[key]).includes(externalId));
  }

  /** Makes every ExternalId statement accept `externalId` too; false when they all did already. */
  add(externalId: string): boolean {
    let changed = false;
    for (const { block, key } of this.conditions) {
      const values = asList(block[key]);
      if (values.includes(externalId)) continue;
      block[key] = [...values, externalId];
      changed = true;
    }
    return changed;
  }

  /**
   * Stops every statement accepting `externalId`; false when none did. Refused when a statement would
   * be left accepting no ExternalId at all (that would lock fleetops out of the account).
   */
  remove(externalId: string): boolean {
    let changed = false;
    for (const { block, key } of this.conditions) {
      const values = asList(block[key]);
      if (!values.includes(externalId)) continue;
      const left = values.filter((v) => v !== externalId);
      if (left.length === 0)
        throw unsupported(this.roleArn, 'removing the ExternalId would leave a statement accepting none');
      block[key] = left.length === 1 ? left[0] : left;
      changed = true;
    }
    return changed;
  }

  /** The document as JSON, for UpdateAssumeRolePolicy. */
  toJson(): string {
    return JSON.stringify(this.document);
  }
}
