import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  LambdaServiceError,
  PreconditionFailedException,
  PolicyLengthExceededException,
  RequestEntityTooLargeException,
  RequestTooLargeException,
  ResourceConflictException,
  ResourceNotFoundException,
  ResourceNotReadyException,
  ProvisionedConcurrencyConfigNotFoundException,
  ServiceException,
  TooManyRequestsException,
  UnknownOperationException,
  NoSuchEntityException,
  MalformedPolicyDocumentException,
  UnsupportedMediaTypeException,
  MissingAuthenticationTokenException,
  IncompleteSignatureException,
  InvalidSignatureException,
  UnrecognizedClientException,
  ExpiredTokenException,
  AccessDeniedException,
  ValidationException,
  serviceErrorFromWire,
} from '../src/shared/index.js';

/**
 * Every error in the catalogue: Lambda's wire name, status, Type (none for the errors of AWS's
 * request layer) and message key (LAMBDA.md 1.2).
 */
const TABLE: [LambdaServiceError, string, number, 'User' | 'Service' | undefined, 'message' | 'Message'][] = [
  [new ResourceNotFoundException('m'), 'ResourceNotFoundException', 404, 'User', 'Message'],
  [new ResourceConflictException('m'), 'ResourceConflictException', 409, 'User', 'message'],
  [new ProvisionedConcurrencyConfigNotFoundException('m'), 'ProvisionedConcurrencyConfigNotFoundException', 404, 'User', 'message'],
  [new InvalidParameterValueException('m'), 'InvalidParameterValueException', 400, 'User', 'message'],
  [new ValidationException('m'), 'ValidationException', 400, undefined, 'message'],
  [new RequestEntityTooLargeException('m'), 'RequestEntityTooLargeException', 413, undefined, 'message'],
  [new PreconditionFailedException('m'), 'PreconditionFailedException', 412, 'User', 'message'],
  [new PolicyLengthExceededException('m'), 'PolicyLengthExceededException', 400, 'User', 'message'],
  [new RequestTooLargeException('m'), 'RequestTooLargeException', 413, 'User', 'message'],
  [new UnsupportedMediaTypeException('m'), 'UnsupportedMediaTypeException', 415, 'User', 'message'],
  [new InvalidRequestContentException('m'), 'InvalidRequestContentException', 400, 'User', 'message'],
  [new ResourceNotReadyException('m'), 'ResourceNotReadyException', 502, 'Service', 'message'],
  [new TooManyRequestsException('ConcurrentInvocationLimitExceeded', 3), 'TooManyRequestsException', 429, 'User', 'message'],
  [new ServiceException('m'), 'ServiceException', 500, 'Service', 'Message'],
  [new UnknownOperationException('m'), 'UnknownOperationException', 404, 'User', 'message'],
  [new NoSuchEntityException('m'), 'NoSuchEntity', 404, 'User', 'message'],
  [new MalformedPolicyDocumentException('m'), 'MalformedPolicyDocument', 400, 'User', 'message'],
  // AWS's authentication layer: message only, no Type.
  [new MissingAuthenticationTokenException(), 'MissingAuthenticationTokenException', 403, undefined, 'message'],
  [new IncompleteSignatureException('m'), 'IncompleteSignatureException', 400, undefined, 'message'],
  [new InvalidSignatureException('m'), 'InvalidSignatureException', 403, undefined, 'message'],
  [new UnrecognizedClientException(), 'UnrecognizedClientException', 403, undefined, 'message'],
  [new ExpiredTokenException(), 'ExpiredTokenException', 403, undefined, 'message'],
  [new AccessDeniedException('m'), 'AccessDeniedException', 403, undefined, 'Message'],
];

describe('the error catalogue', () => {
  for (const [error, code, status, kind, key] of TABLE) {
    it(`${code} is ${status} with {${kind === undefined ? '' : `Type: ${kind}, `}${key}}`, () => {
      assert.equal(error.code, code);
      assert.equal(error.name, code);
      assert.equal(error.status, status);
      const body = error.toBody();
      assert.equal(body['Type'], kind);
      assert.equal(typeof body[key], 'string');
      const extra = error instanceof TooManyRequestsException ? ['Reason'] : [];
      assert.deepEqual(Object.keys(body).sort(), [...(kind === undefined ? [] : ['Type']), key, ...extra].sort());
    });
  }

  it('adds Reason and Retry-After to a throttle', () => {
    const error = new TooManyRequestsException('ReservedFunctionConcurrentInvocationLimitExceeded', 2);
    assert.equal(error.toBody()['Reason'], 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.deepEqual(error.extraHeaders(), { 'Retry-After': '2' });
  });

  it('rebuilds every error from its wire code (fleet wire), an unknown code as ServiceException', () => {
    for (const [error, code] of TABLE) {
      const rebuilt = serviceErrorFromWire(code, error.message, error instanceof TooManyRequestsException ? { reason: error.reason, retryAfterSeconds: error.retryAfterSeconds } : {});
      assert.equal(rebuilt.constructor, error.constructor, code);
      assert.deepEqual(rebuilt.toBody(), error.toBody(), code);
      assert.deepEqual(rebuilt.extraHeaders(), error.extraHeaders(), code);
    }
    assert.ok(serviceErrorFromWire('NoSuchThing', 'm') instanceof ServiceException);
    assert.ok(serviceErrorFromWire('toString', 'm') instanceof ServiceException);
  });

  it('keeps the cause when wrapping', () => {
    const cause = new Error('disk');
    assert.equal(new ServiceException('wrapped', { cause }).cause, cause);
  });
});
