import { ResourceNotFoundException, ValidationException } from './errors.js';

/** Where Kindling pretends to be: every ARN it mints carries these. */
export interface Partition {
  readonly region: string;
  readonly accountId: string;
}

export interface FunctionRef {
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
 * Parses whatever Lambda accepts where a function name goes. An ARN for another account names a
 * function that does not exist here; one for another region is refused with Lambda's own words.
 * A name longer than a function name may be (64) but within the member's length (`maxLength`) is
 * not a validation error: Lambda looks it up and answers ResourceNotFoundException. CreateFunction,
 * which names a new function, checks the 64 itself.
 */
export function parseFunctionRef(input: string, where: Partition, member = 'functionName', maxLength = FUNCTION_REF_MAX): FunctionRef {
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
  const account = account1 ?? account2;
  if (region && region !== where.region) {
    throw new ResourceNotFoundException(`Functions from '${region}' are not reachable in this region ('${where.region}')`);
  }
  if (account && account !== where.accountId) {
    throw new ResourceNotFoundException(`Function not found: ${functionArn(where, name, qualifier)}`);
  }
  return qualifier === undefined ? { name } : { name, qualifier };
}

export function functionArn(where: Partition, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${where.region}:${where.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
