import { LambdaServiceError } from '../shared/index.js';

/**
 * CloudWatch Logs' one name for bad input (a limit out of range, a bad token, an unsupported
 * pattern); Lambda's own catalogue says ValidationException or InvalidParameterValueException.
 */
export class InvalidParameterException extends LambdaServiceError {
  readonly code = 'InvalidParameterException';
  readonly status = 400;
}
