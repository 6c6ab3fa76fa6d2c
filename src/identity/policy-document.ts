import { MalformedPolicyDocumentException } from '../shared/index.js';
import type { PolicyDocument, PolicyStatement } from './caller.js';

/** IAM's limit on an inline role policy (characters, whitespace excluded there; we count all). */
export const INLINE_POLICY_MAX = 10_240;

const list = (value: unknown): value is string | string[] =>
  typeof value === 'string' || (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'));

/**
 * Reads an IAM-style identity policy document (its JSON text, or the parsed value), refusing what IAM refuses with its words: not
 * JSON, no Statement, an Effect other than Allow/Deny, a statement without Action or Resource.
 * (Principal belongs in resource policies, not here; NotAction / NotResource are not supported.)
 */
export function parsePolicyDocument(input: unknown): PolicyDocument {
  let doc = input;
  if (typeof input === 'string') {
    if (input.length > INLINE_POLICY_MAX) throw new MalformedPolicyDocumentException(`Cannot exceed quota for PolicySize: ${INLINE_POLICY_MAX}`);
    try {
      doc = JSON.parse(input);
    } catch {
      throw new MalformedPolicyDocumentException('Syntax errors in policy.');
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new MalformedPolicyDocumentException('Syntax errors in policy.');
  const { Version, Statement } = doc as Record<string, unknown>;
  if (Version !== undefined && Version !== '2012-10-17' && Version !== '2008-10-17') {
    throw new MalformedPolicyDocumentException('The policy must contain a valid version string');
  }
  const statements = Array.isArray(Statement) ? Statement : Statement === undefined ? [] : [Statement];
  if (statements.length === 0) throw new MalformedPolicyDocumentException('Policy document should not specify a principal and must contain a Statement.');
  return { ...(Version === undefined ? {} : { Version }), Statement: statements.map(statement) };
}

function statement(value: unknown): PolicyStatement {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedPolicyDocumentException('Syntax errors in policy.');
  const s = value as Record<string, unknown>;
  if (s['Principal'] !== undefined || s['NotPrincipal'] !== undefined) {
    throw new MalformedPolicyDocumentException('Policy document should not specify a principal.');
  }
  if (s['NotAction'] !== undefined || s['NotResource'] !== undefined) {
    throw new MalformedPolicyDocumentException('NotAction and NotResource are not supported here: list the actions and resources.');
  }
  if (s['Effect'] !== 'Allow' && s['Effect'] !== 'Deny') throw new MalformedPolicyDocumentException('Invalid effect: the Effect must be Allow or Deny.');
  if (!list(s['Action'])) throw new MalformedPolicyDocumentException('Policy statement must contain actions.');
  if (!list(s['Resource'])) throw new MalformedPolicyDocumentException('Policy statement must contain resources.');
  for (const action of [s['Action']].flat() as string[]) {
    if (action !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(action)) {
      throw new MalformedPolicyDocumentException(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (got '${action}')`);
    }
  }
  const condition = s['Condition'];
  if (condition !== undefined && (typeof condition !== 'object' || condition === null || Array.isArray(condition))) {
    throw new MalformedPolicyDocumentException('Syntax errors in policy: Condition must be an object.');
  }
  return {
    ...(typeof s['Sid'] === 'string' ? { Sid: s['Sid'] } : {}),
    Effect: s['Effect'],
    Action: s['Action'],
    Resource: s['Resource'],
    ...(condition === undefined ? {} : { Condition: condition as PolicyStatement['Condition'] & object }),
  };
}
