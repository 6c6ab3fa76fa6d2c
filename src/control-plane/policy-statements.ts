import type { PolicyDocument, PolicyStatement } from '../identity/index.js';
import { InvalidParameterValueException, ValidationException } from '../shared/index.js';
import { expectString } from './validation.js';

/**
 * A statement as Lambda writes it into a resource policy: IAM's grammar, but Principal may be `*`
 * or `{AWS: ...}` / `{Service: ...}`, which an identity policy's statement has no room for.
 */
export interface ResourceStatement extends Omit<PolicyStatement, 'Condition'> {
  readonly Sid: string;
  readonly Principal: '*' | { readonly AWS?: string | readonly string[]; readonly Service?: string | readonly string[] };
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface ResourcePolicyDocument extends PolicyDocument {
  readonly Id?: string;
  readonly Statement: readonly ResourceStatement[];
}

/** Lambda's resource policies are at most 20 KB (Lambda quotas: "Function resource-based policy"). */
export const POLICY_SIZE_LIMIT = 20 * 1024;

/** An empty policy, as Lambda starts every one. */
export function emptyPolicy(): ResourcePolicyDocument {
  return { Version: '2012-10-17', Id: 'default', Statement: [] };
}

// The model's constraints (AddPermission, AddLayerVersionPermission, RemovePermission).
const STATEMENT_ID = /^[a-zA-Z0-9-_]+$/;
/** RemovePermission's NamespacedStatementId also takes dots (statements other services added). */
const NAMESPACED_STATEMENT_ID = /^[a-zA-Z0-9-_.]+$/;
const ACTION = /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/;
const PRINCIPAL = /^[^\s]+$/;
const SOURCE_ACCOUNT = /^\d{12}$/;
const SOURCE_ARN = /^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/;
const EVENT_SOURCE_TOKEN = /^[a-zA-Z0-9._-]+$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const LAYER_ACTION = /^lambda:GetLayerVersion$/;
const LAYER_PRINCIPAL = /^(\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$/;
const ACCOUNT = /^\d{12}$/;
const IAM_PRINCIPAL = /^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:[^\s]+$/;
/** A service principal: `s3.amazonaws.com`, `events.amazonaws.com`, ... */
const SERVICE_PRINCIPAL = /^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]+$/;

/** A member the model requires, with its length and pattern checked as AWS's request layer does. */
function member(value: unknown, name: string, rule: { pattern: RegExp; patternText: string; min?: number; max: number }, required: boolean): string | undefined {
  const text = expectString(value, name);
  if (text === undefined) {
    if (required) throw ValidationException.constraint('null', name, 'Member must not be null');
    return undefined;
  }
  if (text.length < (rule.min ?? 1)) throw ValidationException.constraint(text, name, `Member must have length greater than or equal to ${rule.min ?? 1}`);
  if (text.length > rule.max) throw ValidationException.constraint(text, name, `Member must have length less than or equal to ${rule.max}`);
  if (!rule.pattern.test(text)) throw ValidationException.constraint(text, name, `Member must satisfy regular expression pattern: ${rule.patternText}`);
  return text;
}

const rules = {
  statementId: { pattern: STATEMENT_ID, patternText: '([a-zA-Z0-9-_]+)', max: 100 },
  namespacedStatementId: { pattern: NAMESPACED_STATEMENT_ID, patternText: '([a-zA-Z0-9-_.]+)', max: 100 },
  action: { pattern: ACTION, patternText: '(lambda:[*]|lambda:[a-zA-Z]+|[*])', max: 256 },
  principal: { pattern: PRINCIPAL, patternText: '[^\\s]+', max: 256 },
  sourceAccount: { pattern: SOURCE_ACCOUNT, patternText: '\\d{12}', max: 12 },
  sourceArn: { pattern: SOURCE_ARN, patternText: 'arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)', max: 1024 },
  eventSourceToken: { pattern: EVENT_SOURCE_TOKEN, patternText: '[a-zA-Z0-9._\\-]+', min: 0, max: 256 },
  principalOrgID: { pattern: ORG_ID, patternText: 'o-[a-z0-9]{10,32}', min: 12, max: 34 },
  layerAction: { pattern: LAYER_ACTION, patternText: 'lambda:GetLayerVersion', max: 22 },
  layerPrincipal: { pattern: LAYER_PRINCIPAL, patternText: '\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root', max: 256 },
  organizationId: { pattern: ORG_ID, patternText: 'o-[a-z0-9]{10,32}', max: 34 },
} as const;

/** RemovePermission's and RemoveLayerVersionPermission's StatementId (a path parameter). */
export function validateStatementIdToRemove(value: string): string {
  return member(value, 'statementId', rules.namespacedStatementId, true)!;
}

/** How Lambda writes a principal into the policy: an account becomes its root user's ARN. */
function principalOf(principal: string): ResourceStatement['Principal'] {
  if (principal === '*') return '*';
  if (ACCOUNT.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (IAM_PRINCIPAL.test(principal)) return { AWS: principal };
  if (SERVICE_PRINCIPAL.test(principal)) return { Service: principal };
  throw new InvalidParameterValueException('The provided principal was invalid. Please check the principal and try again.');
}

/** Adds `value` under `operator` / `key` of a Condition block being built. */
function condition(into: Record<string, Record<string, string>>, operator: string, key: string, value: string | undefined): void {
  if (value === undefined) return;
  (into[operator] ??= {})[key] = value;
}

/** AddPermission's body as the statement Lambda adds for it (validated; nothing is written yet). */
export function functionStatement(body: Record<string, unknown>, resourceArn: string): ResourceStatement {
  const sid = member(body['StatementId'], 'statementId', rules.statementId, true)!;
  const action = member(body['Action'], 'action', rules.action, true)!;
  const principal = member(body['Principal'], 'principal', rules.principal, true)!;
  const sourceArn = member(body['SourceArn'], 'sourceArn', rules.sourceArn, false);
  const sourceAccount = member(body['SourceAccount'], 'sourceAccount', rules.sourceAccount, false);
  const token = member(body['EventSourceToken'], 'eventSourceToken', rules.eventSourceToken, false);
  const orgId = member(body['PrincipalOrgID'], 'principalOrgID', rules.principalOrgID, false);
  const urlAuthType = expectString(body['FunctionUrlAuthType'], 'functionUrlAuthType');
  if (urlAuthType !== undefined && urlAuthType !== 'NONE' && urlAuthType !== 'AWS_IAM') {
    throw ValidationException.constraint(urlAuthType, 'functionUrlAuthType', 'Member must satisfy enum value set: [NONE, AWS_IAM]');
  }
  const viaUrl = body['InvokedViaFunctionUrl'];
  if (viaUrl !== undefined && viaUrl !== null && typeof viaUrl !== 'boolean') {
    throw ValidationException.constraint(viaUrl, 'invokedViaFunctionUrl', 'Member must be a boolean');
  }
  const conditions: Record<string, Record<string, string>> = {};
  condition(conditions, 'StringEquals', 'AWS:SourceAccount', sourceAccount);
  condition(conditions, 'StringEquals', 'lambda:EventSourceToken', token);
  condition(conditions, 'StringEquals', 'aws:PrincipalOrgID', orgId);
  condition(conditions, 'StringEquals', 'lambda:FunctionUrlAuthType', urlAuthType);
  condition(conditions, 'Bool', 'lambda:InvokedViaFunctionUrl', viaUrl === true ? 'true' : undefined);
  condition(conditions, 'ArnLike', 'AWS:SourceArn', sourceArn);
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: principalOf(principal),
    Action: action,
    Resource: resourceArn,
    ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
  };
}

/** AddLayerVersionPermission's body as the statement Lambda adds for it. */
export function layerStatement(body: Record<string, unknown>, resourceArn: string): ResourceStatement {
  const sid = member(body['StatementId'], 'statementId', rules.statementId, true)!;
  const action = member(body['Action'], 'action', rules.layerAction, true)!;
  const principal = member(body['Principal'], 'principal', rules.layerPrincipal, true)!;
  const orgId = member(body['OrganizationId'], 'organizationId', rules.organizationId, false);
  if (orgId !== undefined && principal !== '*') {
    // An organization is a set of accounts: it narrows "everyone", not one account.
    throw new InvalidParameterValueException('OrganizationId can only be specified when Principal is *.');
  }
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: principal === '*' ? '*' : { AWS: ACCOUNT.test(principal) ? `arn:aws:iam::${principal}:root` : principal },
    Action: action,
    Resource: resourceArn,
    ...(orgId !== undefined ? { Condition: { StringEquals: { 'aws:PrincipalOrgID': orgId } } } : {}),
  };
}
