import {
  CREATE_FUNCTION_REF_MAX,
  FUNCTION_NAME_MAX,
  InvalidParameterValueException,
  ValidationException,
  bareName,
  parseFunctionRef,
  scopedName,
  type Partition,
} from '../shared/index.js';
import { expectString } from './validation.js';

/**
 * CreateFunction's FunctionName: a name, or an unqualified (partial) ARN of the caller's own
 * account (`account`): no one creates in an account but their own. Returns the new function's key
 * in that account and its bare name (account-scope.ts).
 */
export function newFunctionName(input: unknown, where: Partition, account: string): { key: string; name: string } {
  const nameInput = expectString(input, 'functionName');
  if (nameInput === undefined) throw ValidationException.constraint('null', 'functionName', 'Member must not be null');
  const ref = parseFunctionRef(nameInput, where, 'functionName', CREATE_FUNCTION_REF_MAX, account);
  const name = bareName(ref.name);
  if (scopedName(where.accountId, account, name) !== ref.name) {
    throw new InvalidParameterValueException(`The account in the function ARN does not match the caller's account: ${nameInput}`);
  }
  if (name.length > FUNCTION_NAME_MAX) {
    // Lambda's own check, so InvalidParameterValueException in a validation message's words (test_function_arns).
    throw new InvalidParameterValueException(
      `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to ${FUNCTION_NAME_MAX}`,
    );
  }
  if (ref.qualifier !== undefined) {
    throw ValidationException.constraint(nameInput, 'functionName', 'Member must not include a qualifier on CreateFunction');
  }
  return { key: ref.name, name };
}
