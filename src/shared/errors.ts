/**
 * The catalogue of service errors Kindling answers with. Each is a class with Lambda's wire name,
 * HTTP status and error `Type`; `api/` turns them into responses in one place.
 *
 * Function failures (Sandbox.Timedout, Runtime.ExitError, ...) are not here: Lambda returns them as
 * values (200 with X-Amz-Function-Error), see `invoke/`.
 */
export type ErrorKind = 'User' | 'Service';

/** What an operator can act on when Kindling cannot start or go on (internal, not an API answer). */
export type KindlingErrorCode =
  | 'ERR_SANDBOX_UNAVAILABLE'
  | 'ERR_SANDBOX_NOT_ALLOWED'
  | 'ERR_STORE_DAMAGED'
  /** A write lost to another one on a unique key (two creates of one name, on two servers). */
  | 'ERR_STORE_CONFLICT'
  /** The store cannot be reached (a wrong connection string, the database down). */
  | 'ERR_STORE_UNAVAILABLE'
  /** A blob's bytes do not hash to its key. */
  | 'ERR_BLOB_DIGEST'
  /** A function's or layer's code is in no blob store this machine can read. */
  | 'ERR_CODE_MISSING'
  /** The invoke never reached a worker process (refused, unreachable, connect timeout, TLS refused): safe to try another. */
  | 'ERR_WORKER_UNREACHABLE'
  /** The worker is draining near its lease end and ran nothing: safe to try another. */
  | 'ERR_WORKER_DRAINING'
  /** The invoke was sent but no answer came (connection died, timeout): it may have run. */
  | 'ERR_WORKER_LOST'
  /** The worker has no memory for another environment (its --worker-memory): nothing ran, try another. */
  | 'ERR_WORKER_FULL'
  /** The key file (--key-file) cannot be read or made, or does not open the stored secrets. */
  | 'ERR_KEY_FILE';

/** Kindling's own failures, with a code to match on (Miniflare's MiniflareError<Code>). */
export class KindlingError extends Error {
  constructor(
    readonly code: KindlingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KindlingError';
  }
}

export abstract class LambdaServiceError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly kind: ErrorKind = 'User';
  /** Lambda spells the message key `Message` for some exceptions and `message` for the rest. */
  readonly messageKey: 'message' | 'Message' = 'message';
  /**
   * Whether the body carries `Type`. Lambda's own exceptions do; the errors AWS's request layer
   * answers before Lambda sees the call (model validation, an oversized body) carry `message` only.
   */
  readonly typed: boolean = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Extra members of the JSON body beyond Type and the message. */
  extraBody(): Record<string, unknown> {
    return {};
  }

  /** Extra response headers (Retry-After on 429). */
  extraHeaders(): Record<string, string> {
    return {};
  }

  toBody(): Record<string, unknown> {
    return { ...(this.typed ? { Type: this.kind } : {}), [this.messageKey]: this.message, ...this.extraBody() };
  }
}

export class ResourceNotFoundException extends LambdaServiceError {
  readonly code = 'ResourceNotFoundException';
  readonly status = 404;
  override readonly messageKey = 'Message' as const;
}

export class ProvisionedConcurrencyConfigNotFoundException extends LambdaServiceError {
  readonly code = 'ProvisionedConcurrencyConfigNotFoundException';
  readonly status = 404;
}

export class ResourceConflictException extends LambdaServiceError {
  readonly code = 'ResourceConflictException';
  readonly status = 409;
}

export class InvalidParameterValueException extends LambdaServiceError {
  readonly code = 'InvalidParameterValueException';
  readonly status = 400;
}

/** Model constraint violations (patterns, ranges, enums) are ValidationException on Lambda. */
export class ValidationException extends LambdaServiceError {
  readonly code = 'ValidationException';
  readonly status = 400;
  override readonly typed = false;

  static constraint(value: unknown, member: string, constraint: string): ValidationException {
    return new ValidationException(
      `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`,
    );
  }
}

export class PreconditionFailedException extends LambdaServiceError {
  readonly code = 'PreconditionFailedException';
  readonly status = 412;
}

/** A resource policy past Lambda's 20 KB (AddPermission, AddLayerVersionPermission). */
export class PolicyLengthExceededException extends LambdaServiceError {
  readonly code = 'PolicyLengthExceededException';
  readonly status = 400;
}

export class RequestTooLargeException extends LambdaServiceError {
  readonly code = 'RequestTooLargeException';
  readonly status = 413;
}

/**
 * A control-plane request body over the operation's limit: AWS's request layer answers 413
 * RequestEntityTooLargeException (LocalStack's AWS-validated snapshot, test_oversized_request_create_lambda).
 * Invoke's payload limit is Lambda's own RequestTooLargeException.
 */
export class RequestEntityTooLargeException extends LambdaServiceError {
  readonly code = 'RequestEntityTooLargeException';
  readonly status = 413;
  override readonly typed = false;
}

export class UnsupportedMediaTypeException extends LambdaServiceError {
  readonly code = 'UnsupportedMediaTypeException';
  readonly status = 415;
}

export class InvalidRequestContentException extends LambdaServiceError {
  readonly code = 'InvalidRequestContentException';
  readonly status = 400;
}

export class ResourceNotReadyException extends LambdaServiceError {
  readonly code = 'ResourceNotReadyException';
  readonly status = 502;
  override readonly kind = 'Service' as const;
}

export type ThrottleReason =
  | 'ConcurrentInvocationLimitExceeded'
  | 'FunctionInvocationRateLimitExceeded'
  | 'ReservedFunctionConcurrentInvocationLimitExceeded'
  | 'ReservedFunctionInvocationRateLimitExceeded'
  | 'CallerRateLimitExceeded';

export class TooManyRequestsException extends LambdaServiceError {
  readonly code = 'TooManyRequestsException';
  readonly status = 429;

  constructor(
    readonly reason: ThrottleReason,
    readonly retryAfterSeconds: number,
    message = 'Rate Exceeded.',
  ) {
    super(message);
  }

  override extraBody(): Record<string, unknown> {
    return { Reason: this.reason };
  }

  override extraHeaders(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }
}

export class ServiceException extends LambdaServiceError {
  readonly code = 'ServiceException';
  readonly status = 500;
  override readonly kind = 'Service' as const;
  override readonly messageKey = 'Message' as const;
}

/** Kindling's own HTTP routing misses: Lambda answers an unknown path with UnknownOperationException. */
export class UnknownOperationException extends LambdaServiceError {
  readonly code = 'UnknownOperationException';
  readonly status = 404;
}

/** IAM's answer for a role policy (or other identity entity) that does not exist. */
export class NoSuchEntityException extends LambdaServiceError {
  readonly code = 'NoSuchEntity';
  readonly status = 404;
  // IAM's wire name has no "Exception" (the SDKs add it to the class).
  override name = 'NoSuchEntity';
}

/** IAM's answer for a policy document it cannot read (not JSON, no Statement, a bad Effect). */
export class MalformedPolicyDocumentException extends LambdaServiceError {
  readonly code = 'MalformedPolicyDocument';
  readonly status = 400;
  override name = 'MalformedPolicyDocument';
}

/**
 * The errors AWS's authentication layer answers before the service sees the call. Their bodies carry
 * the message only, no `Type` (as the request layer's ValidationException), and the wording is AWS's.
 */
export class MissingAuthenticationTokenException extends LambdaServiceError {
  readonly code = 'MissingAuthenticationTokenException';
  readonly status = 403;
  override readonly typed = false;

  constructor(message = 'Missing Authentication Token', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A SigV4 Authorization header or presigned query that lacks a part (400, as AWS answers it). */
export class IncompleteSignatureException extends LambdaServiceError {
  readonly code = 'IncompleteSignatureException';
  readonly status = 400;
  override readonly typed = false;
}

/** The signature does not match, or its date is outside the allowed clock skew. */
export class InvalidSignatureException extends LambdaServiceError {
  readonly code = 'InvalidSignatureException';
  readonly status = 403;
  override readonly typed = false;

  static readonly MISMATCH =
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
}

/** An access key nobody knows, or a session token that is not the key's. */
export class UnrecognizedClientException extends LambdaServiceError {
  readonly code = 'UnrecognizedClientException';
  readonly status = 403;
  override readonly typed = false;

  constructor(message = 'The security token included in the request is invalid.', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Temporary credentials past their expiry. */
export class ExpiredTokenException extends LambdaServiceError {
  readonly code = 'ExpiredTokenException';
  readonly status = 403;
  override readonly typed = false;

  constructor(message = 'The security token included in the request is expired', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The caller's policies do not allow the action: "User: <arn> is not authorized to perform:
 * lambda:<Action> on resource: <arn> because ..." as Lambda words it (`Message`, no Type).
 */
export class AccessDeniedException extends LambdaServiceError {
  readonly code = 'AccessDeniedException';
  readonly status = 403;
  override readonly typed = false;
  override readonly messageKey = 'Message' as const;
}

/** Codes a worker may answer with, and how to rebuild each one's class on the api node. */
const WIRE_ERRORS: Record<string, (message: string) => LambdaServiceError> = {
  ResourceNotFoundException: (m) => new ResourceNotFoundException(m),
  ProvisionedConcurrencyConfigNotFoundException: (m) => new ProvisionedConcurrencyConfigNotFoundException(m),
  ResourceConflictException: (m) => new ResourceConflictException(m),
  InvalidParameterValueException: (m) => new InvalidParameterValueException(m),
  ValidationException: (m) => new ValidationException(m),
  PreconditionFailedException: (m) => new PreconditionFailedException(m),
  PolicyLengthExceededException: (m) => new PolicyLengthExceededException(m),
  RequestTooLargeException: (m) => new RequestTooLargeException(m),
  RequestEntityTooLargeException: (m) => new RequestEntityTooLargeException(m),
  UnsupportedMediaTypeException: (m) => new UnsupportedMediaTypeException(m),
  InvalidRequestContentException: (m) => new InvalidRequestContentException(m),
  ResourceNotReadyException: (m) => new ResourceNotReadyException(m),
  ServiceException: (m) => new ServiceException(m),
  UnknownOperationException: (m) => new UnknownOperationException(m),
  MissingAuthenticationTokenException: (m) => new MissingAuthenticationTokenException(m),
  IncompleteSignatureException: (m) => new IncompleteSignatureException(m),
  InvalidSignatureException: (m) => new InvalidSignatureException(m),
  UnrecognizedClientException: (m) => new UnrecognizedClientException(m),
  ExpiredTokenException: (m) => new ExpiredTokenException(m),
  AccessDeniedException: (m) => new AccessDeniedException(m),
  NoSuchEntity: (m) => new NoSuchEntityException(m),
  MalformedPolicyDocument: (m) => new MalformedPolicyDocumentException(m),
};

const THROTTLE_REASONS: readonly string[] = [
  'ConcurrentInvocationLimitExceeded',
  'FunctionInvocationRateLimitExceeded',
  'ReservedFunctionConcurrentInvocationLimitExceeded',
  'ReservedFunctionInvocationRateLimitExceeded',
  'CallerRateLimitExceeded',
] satisfies readonly ThrottleReason[];

/**
 * The service error a peer node sent (fleet wire: `x-amzn-errortype`, message, Reason, Retry-After),
 * as the same class it was thrown as; an unknown code is a ServiceException.
 */
export function serviceErrorFromWire(
  code: string,
  message: string,
  extra: { reason?: string; retryAfterSeconds?: number } = {},
): LambdaServiceError {
  if (code === 'TooManyRequestsException') {
    const reason = THROTTLE_REASONS.includes(extra.reason ?? '') ? (extra.reason as ThrottleReason) : 'ConcurrentInvocationLimitExceeded';
    return new TooManyRequestsException(reason, extra.retryAfterSeconds ?? 1, message);
  }
  const build = Object.hasOwn(WIRE_ERRORS, code) ? WIRE_ERRORS[code] : undefined;
  return build ? build(message) : new ServiceException(message);
}
