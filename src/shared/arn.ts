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
  /^(?:arn:aws[a-zA-Z-]*:lambda:(?<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):(?<account1>\d{12}):function:|(?<account2>\d{12}):function:)?(?<name>[a-zA-Z0-9-_]+)(?::(?<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$/;

export const FUNCTION_NAME_MAX = 64;
/** The model's length limit on a FunctionName member that may be an ARN (GetFunction, Invoke, ...). */
export const FUNCTION_REF_MAX = 170;

/**
 * Parses whatever Lambda accepts where a function name goes. An ARN for another account names a
 * function that does not exist here; one for another region is refused with Lambda's own words.
 * A name longer than a function name may be (64) but within the member's length (170) is not a
 * validation error: Lambda looks it up and answers ResourceNotFoundException. CreateFunction, which
 * names a new function, checks the 64 itself (`strictName`).
 */
export function parseFunctionRef(input: string, where: Partition, member = 'functionName', strictName = false): FunctionRef {
  if (input.length > FUNCTION_REF_MAX) {
    throw ValidationException.constraint(input, member, `Member must have length less than or equal to ${FUNCTION_REF_MAX}`);
  }
  const match = FUNCTION_REF.exec(input);
  if (!match?.groups) {
    throw ValidationException.constraint(
      input,
      member,
      'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
    );
  }
  const { region, account1, account2, name, qualifier } = match.groups as Record<string, string | undefined>;
  if (!name) throw ValidationException.constraint(input, member, 'Member must not be null');
  if (strictName && name.length > FUNCTION_NAME_MAX) {
    throw ValidationException.constraint(name, member, `Member must have length less than or equal to ${FUNCTION_NAME_MAX}`);
  }
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
