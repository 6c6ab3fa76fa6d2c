import type { ResourceRequest } from '../identity/index.js';
import type { ResourcePolicyDocument, ResourceStatement } from './policy-statements.js';

/**
 * How IAM evaluates a resource policy for one request: an explicit Deny wins, else any Allow whose
 * Principal, Action, Resource and Condition all match, else nothing (the caller's own account, or
 * its identity policies, must allow it then). Pure: the cache in resource-policies.ts calls it.
 */
export function policyAllows(policy: ResourcePolicyDocument, resourceArn: string, request: ResourceRequest): boolean {
  let allowed = false;
  for (const statement of policy.Statement) {
    if (!statementMatches(statement, resourceArn, request)) continue;
    if (statement.Effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

export function statementMatches(statement: ResourceStatement, resourceArn: string, request: ResourceRequest): boolean {
  return (
    principalMatches(statement.Principal, request) &&
    list(statement.Action).some((pattern) => wildcard(pattern, request.action, true)) &&
    list(statement.Resource).some((pattern) => wildcard(pattern, resourceArn, false)) &&
    conditionsHold(statement.Condition, request)
  );
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Patterns compiled once: Invoke asks on its hot path, and policies hold few distinct patterns. */
const COMPILED = new Map<string, RegExp>();
const COMPILED_MAX = 1024;

/** IAM's `*` (any run) and `?` (one character); actions compare without regard to case. */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = COMPILED.get(key);
  if (!regex) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    if (COMPILED.size >= COMPILED_MAX) COMPILED.clear();
    COMPILED.set(key, regex);
  }
  return regex.test(value);
}

/**
 * `*` is anyone; an account's root ARN is every principal of that account; a user's or role's ARN
 * is that principal, a role's also every session of it. Service principals never match a caller:
 * Kindling has no services that call on a user's behalf.
 */
function principalMatches(principal: ResourceStatement['Principal'], request: ResourceRequest): boolean {
  if (principal === '*') return true;
  const { caller } = request;
  return list(principal.AWS).some((arn) => {
    if (arn === '*') return true;
    if (/^\d{12}$/.test(arn)) return arn === caller.accountId;
    if (arn === `arn:aws:iam::${caller.accountId}:root`) return true;
    if (arn === caller.arn) return true;
    // arn:aws:iam::<account>:role/<name> matches arn:aws:sts::<account>:assumed-role/<name>/<session>.
    const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
    const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(caller.arn);
    return role !== null && session !== null && role[1] === session[1] && role[2] === session[2];
  });
}

/** The request's value for a condition key (keys compare without regard to case, as in IAM). */
function contextValue(key: string, request: ResourceRequest): string | undefined {
  switch (key.toLowerCase()) {
    case 'aws:sourcearn':
      return request.sourceArn;
    case 'aws:sourceaccount':
      return request.sourceAccount;
    case 'aws:principalaccount':
      return request.caller.accountId;
    case 'aws:principalarn':
      return request.caller.arn;
    case 'lambda:functionurlauthtype':
      return request.functionUrlAuthType;
    default:
      // aws:PrincipalOrgID, lambda:EventSourceToken...: Kindling's
      // callers carry none of these, so a statement that requires one never matches.
      return undefined;
  }
}

type Test = (expected: string, actual: string) => boolean;

const OPERATORS: Record<string, { test: Test; negated: boolean }> = {
  stringequals: { test: (e, a) => e === a, negated: false },
  stringnotequals: { test: (e, a) => e === a, negated: true },
  stringequalsignorecase: { test: (e, a) => e.toLowerCase() === a.toLowerCase(), negated: false },
  stringlike: { test: (e, a) => wildcard(e, a, false), negated: false },
  stringnotlike: { test: (e, a) => wildcard(e, a, false), negated: true },
  arnequals: { test: (e, a) => arnLike(e, a), negated: false },
  arnlike: { test: (e, a) => arnLike(e, a), negated: false },
  arnnotequals: { test: (e, a) => arnLike(e, a), negated: true },
  arnnotlike: { test: (e, a) => arnLike(e, a), negated: true },
  bool: { test: (e, a) => e.toLowerCase() === a.toLowerCase(), negated: false },
};

/** ArnLike compares the six colon-separated parts one by one, each with wildcards. */
function arnLike(pattern: string, arn: string): boolean {
  const p = pattern.split(':');
  const a = arn.split(':');
  if (p.length < 6 || a.length < 6) return false;
  const fixed = (parts: string[]) => [...parts.slice(0, 5), parts.slice(5).join(':')];
  const pp = fixed(p);
  const aa = fixed(a);
  return pp.every((part, i) => wildcard(part, aa[i]!, false));
}

/**
 * Every operator block must hold, and within it every key (AND); a key holds when any of its values
 * matches (OR). A key the request lacks fails a positive operator and passes a negated one;
 * `...IfExists` passes it either way. An operator Kindling does not know fails: never allow by doubt.
 */
function conditionsHold(conditions: ResourceStatement['Condition'], request: ResourceRequest): boolean {
  if (conditions === undefined) return true;
  return Object.entries(conditions).every(([name, keys]) => {
    const ifExists = /ifexists$/i.test(name);
    const operator = OPERATORS[name.toLowerCase().replace(/ifexists$/, '')];
    if (!operator) return false;
    return Object.entries(keys).every(([key, values]) => {
      const actual = contextValue(key, request);
      if (actual === undefined) return ifExists || operator.negated;
      const any = list(values).some((expected) => operator.test(expected, actual));
      return operator.negated ? !any : any;
    });
  });
}
