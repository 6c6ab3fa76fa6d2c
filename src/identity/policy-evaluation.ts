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

