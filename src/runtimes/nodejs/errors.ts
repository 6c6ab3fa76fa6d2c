/**
 * The errors this runtime reports and the two shapes Lambda's Node.js runtime gives them:
 * the Runtime API body (`toRapidResponse`) and the log line (`toFormatted`).
 */
import { types } from 'node:util';

/**
 * Lambda's runtime errors wrap the original error as their message (`Error: Cannot find module ...`)
 * and carry the `Runtime.` prefix in their name, so a stack reads `Runtime.ImportModuleError: ...`.
 */
export class RuntimeError extends Error {
  constructor(reason: unknown, options?: { cause?: unknown }) {
    super(safeToString(reason), options);
  }
}

export class ImportModuleError extends RuntimeError {}
export class HandlerNotFound extends RuntimeError {}
export class MalformedHandlerName extends RuntimeError {}
export class UserCodeSyntaxError extends RuntimeError {}
/** A response stream used out of order (its content type set after the first write). */
export class InvalidStreamingOperation extends RuntimeError {}
/** A handler marked for a streaming mode other than `response`. */
export class MalformedStreamingHandler extends RuntimeError {}

export class UnhandledPromiseRejection extends RuntimeError {
  // Enumerable on purpose: Lambda's log line shows them (`"reason":{...},"promise":{}`).
  readonly reason: unknown;
  readonly promise: Promise<unknown>;

  constructor(reason: unknown, promise: Promise<unknown>) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}

// Set on the prototype, not in the constructor, so the stack V8 captures at construction already
// starts with the Runtime.* name, as Lambda's does.
for (const errorClass of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  InvalidStreamingOperation,
  MalformedStreamingHandler,
  UnhandledPromiseRejection,
]) {
  Object.defineProperty(errorClass.prototype, 'name', {
    value: `Runtime.${errorClass.name}`,
    writable: true,
    configurable: true,
  });
}

/** Body of POST /runtime/invocation/{id}/error and /runtime/init/error. */
export interface ErrorResponse {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

interface ErrorLike {
  name: unknown;
  message: unknown;
  stack?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return (
    types.isNativeError(value) ||
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as ErrorLike).name === 'string' &&
      typeof (value as ErrorLike).message === 'string')
  );
}

/** String(value) that never throws (Object.create(null), hostile toString). */
export function safeToString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Lambda reports an Error by its name, message and stack lines; anything else thrown (a string, an
 * object) by its `typeof` and its string form, with an empty trace.
 */
export function toRapidResponse(error: unknown): ErrorResponse {
  if (isErrorLike(error)) {
    const stack = typeof error.stack === 'string' ? error.stack : '';
    return {
      errorType: safeToString(error.name),
      errorMessage: safeToString(error.message),
      trace: stack === '' ? [] : stack.split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: safeToString(error), trace: [] };
}

/** Errors in a log line: every enumerable property plus name, message, code and the stack as lines. */
function expandErrors(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const expanded: Record<string, unknown> = {
    errorType: value.name,
    errorMessage: value.message,
    code: (value as { code?: unknown }).code,
  };
  Object.assign(expanded, value);
  if (typeof value.stack === 'string') expanded['stack'] = value.stack.split('\n');
  return expanded;
}

/** The `\t{...}` Lambda appends to `Invoke Error` and `Uncaught Exception` log messages. */
export function toFormatted(error: unknown): string {
  try {
    return `\t${JSON.stringify(error, expandErrors)}`;
  } catch {
    return `\t${JSON.stringify(toRapidResponse(error))}`;
  }
}
