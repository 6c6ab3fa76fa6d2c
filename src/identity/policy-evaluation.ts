import type { Caller, PolicyDocument, PolicyStatement } from './caller.js';

/** What the identity policies say of one action on one resource. */
export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

/**
 * IAM's evaluation of identity policies: an explicit Deny anywhere wins, else an Allow anywhere
 * allows, else nothing does (default deny). Actions match case-insensitively, resources case-
 * sensitively, both with `*` (any run of characters) and `?` (one character), as IAM does.
 * Conditions are not evaluated here: a statement with one never matches (denies stay safe: a
 * conditional Deny is taken as applying).
 */
export function evaluatePolicies(policies: Caller['policies'], action: string, resource: string): PolicyDecision {
  if (policies === 'all') return 'allow';
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.Statement) {
      if (!matchesAny(statement.Action, action, true) || !matchesAny(statement.Resource, resource, false)) continue;
      if (statement.Effect === 'Deny') return 'explicit-deny';
      if (statement.Condition === undefined || Object.keys(statement.Condition).length === 0) allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function matchesAny(patterns: PolicyStatement['Action'], value: string, ignoreCase: boolean): boolean {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  return list.some((pattern) => wildcard(pattern, ignoreCase).test(value));
}

const compiled = new Map<string, RegExp>();

/** `lambda:Invoke*` as a regular expression (memoised: policies are evaluated on every request). */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = compiled.get(key);
  if (!regex) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
    regex = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, regex);
  }
  return regex;
}

/** A policy document's shape checked, as IAM checks one on PutUserPolicy (MalformedPolicyDocument). */
export function parsePolicyDocument(value: unknown): PolicyDocument {
  const fail = (why: string): never => {
    throw new PolicyDocumentError(`The policy document is malformed: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('it must be a JSON object');
  const doc = value as Record<string, unknown>;
  const raw = doc['Statement'];
  const statements = Array.isArray(raw) ? raw : raw !== undefined ? [raw] : fail('it has no Statement');
  if (statements.length === 0) fail('Statement is empty');
  const strings = (v: unknown, name: string): string | string[] => {
    if (typeof v === 'string' && v !== '') return v;
    if (Array.isArray(v) && v.length > 0 && v.every((item) => typeof item === 'string' && item !== '')) return v as string[];
    return fail(`${name} must be a string or a list of strings`);
  };
  return {
    ...(typeof doc['Version'] === 'string' ? { Version: doc['Version'] } : {}),
    Statement: statements.map((s: unknown): PolicyStatement => {
      if (typeof s !== 'object' || s === null) return fail('each Statement must be an object');
      const st = s as Record<string, unknown>;
      if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny') fail("Effect must be 'Allow' or 'Deny'");
      if ('NotAction' in st || 'NotResource' in st || 'Principal' in st) fail('NotAction, NotResource and Principal are not supported in identity policies here');
      return {
        ...(typeof st['Sid'] === 'string' ? { Sid: st['Sid'] } : {}),
        Effect: st['Effect'] as 'Allow' | 'Deny',
        Action: strings(st['Action'], 'Action'),
        Resource: strings(st['Resource'], 'Resource'),
        ...(st['Condition'] !== undefined ? { Condition: st['Condition'] as PolicyStatement['Condition'] & object } : {}),
      };
    }),
  };
}

/** A policy that cannot be stored (the CLI and the keys API answer it as a bad request). */
export class PolicyDocumentError extends Error {}
