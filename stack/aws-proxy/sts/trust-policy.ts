/**
 * Evaluates the `sts:ExternalId` conditions of a role's trust policy (its AssumeRolePolicyDocument),
 * the way IAM does for sts:AssumeRole: allowed when some Allow statement for the action has its
 * ExternalId conditions met and no such Deny statement applies.
 *
 * Scope: statements are matched on Action (`sts:AssumeRole`, `sts:*`, `*`, wildcards); Principal and
 * conditions on other keys are not evaluated (treated as met). Operators on `sts:ExternalId`:
 * StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
 * StringNotLike (each also `...IfExists`, and with ForAnyValue:/ForAllValues: prefixes), and Null.
 * Any other operator on it never matches (fails closed). A document that does not parse allows nothing.
 */

type ConditionBlock = Record<string, Record<string, unknown>>;

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Condition?: unknown;
}

const EXTERNAL_ID_KEY = 'sts:externalid';

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'boolean' || typeof value === 'number') return [String(value)];
  return [];
}

function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, caseInsensitive ? 'is' : 's');
}

function coversAssumeRole(statement: Statement): boolean {
  if (statement.Action !== undefined)
    return asList(statement.Action).some((a) => wildcard(a, true).test('sts:AssumeRole'));
  if (statement.NotAction !== undefined)
    return !asList(statement.NotAction).some((a) => wildcard(a, true).test('sts:AssumeRole'));
  return false;
}

/** Whether one operator's test of `sts:ExternalId` holds for `given`. */
function operatorHolds(operator: string, values: string[], given: string | undefined): boolean {
  const op = operator.replace(/^(ForAnyValue|ForAllValues):/i, '');
  if (/^Null$/i.test(op)) return values.some((v) => (v.toLowerCase() === 'true') === (given === undefined));
  const ifExists = /IfExists$/i.test(op);
  const base = op.replace(/IfExists$/i, '').toLowerCase();
  const negated = base.startsWith('stringnot');
  if (given === undefined) return ifExists || negated;
  const ignoreCase = base.endsWith('ignorecase');
  let positive: boolean;
  switch (base) {
    case 'stringequals':
    case 'stringnotequals':
      positive = values.includes(given);
      break;
    case 'stringequalsignorecase':
    case 'stringnotequalsignorecase':
      positive = values.some((v) => v.toLowerCase() === given.toLowerCase());
      break;
    case 'stringlike':
    case 'stringnotlike':
      positive = values.some((v) => wildcard(v, ignoreCase).test(given));
      break;
    default:
      return false;
  }
  return negated ? !positive : positive;
}

function conditionsHold(condition: unknown, given: string | undefined): boolean {
  if (condition === undefined) return true;
  if (typeof condition !== 'object' || condition === null) return false;
  for (const [operator, tests] of Object.entries(condition as ConditionBlock)) {
    if (typeof tests !== 'object' || tests === null) return false;
    for (const [key, values] of Object.entries(tests)) {
      if (key.toLowerCase() !== EXTERNAL_ID_KEY) continue; // other keys: not evaluated
      if (!operatorHolds(operator, asList(values), given)) return false;
    }
  }
  return true;
}

function statementsOf(document: string): Statement[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const statement = (parsed as { Statement?: unknown }).Statement;
  const list = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  return list.filter((s): s is Statement => typeof s === 'object' && s !== null);
}

/** Whether the trust policy lets sts:AssumeRole through with `externalId` (null/undefined: none given). */
export function trustPolicyAllows(document: string, externalId: string | null | undefined): boolean {
  const statements = statementsOf(document);
  if (!statements) return false;
  const given = externalId ?? undefined;
  const applies = (s: Statement): boolean => coversAssumeRole(s) && conditionsHold(s.Condition, given);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}
