export {
  LambdaServiceError,
  ResourceNotFoundException,
  ProvisionedConcurrencyConfigNotFoundException,
  ResourceConflictException,
  InvalidParameterValueException,
  ValidationException,
  PreconditionFailedException,
  PolicyLengthExceededException,
  RequestEntityTooLargeException,
  RequestTooLargeException,
  UnsupportedMediaTypeException,
  InvalidRequestContentException,
  ResourceNotReadyException,
  TooManyRequestsException,
  ServiceException,
  UnknownOperationException,
  NoSuchEntityException,
  MalformedPolicyDocumentException,
  MissingAuthenticationTokenException,
  IncompleteSignatureException,
  InvalidSignatureException,
  UnrecognizedClientException,
  ExpiredTokenException,
  AccessDeniedException,
  KindlingError,
  serviceErrorFromWire,
} from './errors.js';
export type { ErrorKind, ThrottleReason, KindlingErrorCode } from './errors.js';
export { parseFunctionRef, functionArn, FUNCTION_NAME_MAX, FUNCTION_REF_MAX, CREATE_FUNCTION_REF_MAX } from './arn.js';
export type { Partition, FunctionRef } from './arn.js';
export { scopedName, unscope, bareName, inScope, besideKey, scopePrefix, functionLogGroupKey } from './account-scope.js';
export { newRequestId, newRevisionId, newLogStreamName, newEnvironmentId } from './ids.js';
export { systemClock, lambdaTimestamp } from './clock.js';
export { KeyedLock } from './keyed-lock.js';
export type { Clock } from './clock.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel } from './logger.js';
export {
  FLEET_INVOKE_PATH,
  NODE_DEAD_AFTER_MS,
  FLEET_CIPHERS,
  FLEET_TLS_VERSION,
  FLEET_HEADERS,
  encodeFrame,
  encodeMeta,
  decodeFrame,
  parseFunctionRecord,
} from './fleet-protocol.js';
export type { FleetInvokeMeta, FleetErrorBody, FleetSighting, DecodedFrame, PoolInventory, WorkerInventory } from './fleet-protocol.js';
export { listenOn, whenDrained } from './listen.js';
