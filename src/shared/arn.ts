import { scopedName, unscope } from './account-scope.js';
import { ResourceNotFoundException, ValidationException } from './errors.js';

/** Where Kindling pretends to be: every ARN it mints carries these. */
export interface Partition {
  readonly region: string;
  readonly accountId: string;
}

export interface FunctionRef {
  /** The function's key: its name in the account the reference names (account-scope.ts). */
  readonly name: string;
  /** `$LATEST`, a version number or an alias name, when the caller gave one. */
  readonly qualifier?: string;
}

/** Lambda's FunctionName pattern: a name, a partial ARN or a full ARN, each with an optional qualifier. */
const FUNCTION_REF =
  /^(?:arn:aws[a-zA-Z-]*:lambda:(?<region>[a-z]{2}(?:-gov|-iso|-isob)?-[a-z]+-\d):(?<account1>\d{12}):function:|(?<account2>\d{12}):function:)?(?<name>[a-zA-Z0-9-_]+)(?::(?<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$/;

export const FUNCTION_NAME_MAX = 64;
/** The model's length limits on a FunctionName member: 170 where it may name any function (GetFunction, Invoke, ...), 140 on CreateFunction. */
export const FUNCTION_REF_MAX = 170;
export const CREATE_FUNCTION_REF_MAX = 140;

/**
 * Parses whatever Lambda accepts where a function name goes, for a caller in `account` (the default
 * account, `where.accountId`, unless given). A bare name is the caller's function; a (partial) ARN
 * names its account's function, which may be another's: whether the caller may touch it is decided
 * before (the authorizer, with the function's resource policy). The name comes back as the
 * function's key in that account (account-scope.ts). An ARN for another region is refused with
 * Lambda's own words.
 * A name longer than a function name may be (64) but within the member's length (`maxLength`) is
 * not a validation error: Lambda looks it up and answers ResourceNotFoundException. CreateFunction,
 * which names a new function, checks the 64 itself.
 */
export function parseFunctionRef(
  input: string,
  where: Partition,
  member = 'functionName',
  maxLength = FUNCTION_REF_MAX,
  account = where.accountId,
): FunctionRef {
  if (input.length > maxLength) {
    throw ValidationException.constraint(input, member, `Member must have length less than or equal to ${maxLength}`);
  }
  const match = FUNCTION_REF.exec(input);
  if (!match?.groups) {
    throw ValidationException.constraint(
      input,
      member,
      // AWS's current wording of the pattern (test_function_arns), iso partitions included.
      'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
    );
  }
  const { region, account1, account2, name, qualifier } = match.groups as Record<string, string | undefined>;
  if (!name) throw ValidationException.constraint(input, member, 'Member must not be null');
  if (region && region !== where.region) {
    throw new ResourceNotFoundException(`Functions from '${region}' are not reachable in this region ('${where.region}')`);
  }
  const key = scopedName(where.accountId, account1 ?? account2 ?? account, name);
  return qualifier === undefined ? { name: key } : { name: key, qualifier };
}

/** The ARN of the function keyed `key` (in its own account: account-scope.ts). */
export function functionArn(where: Partition, key: string, qualifier?: string): string {
  const { accountId, name } = unscope(where.accountId, key);
  const base = `arn:aws:lambda:${where.region}:${accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
