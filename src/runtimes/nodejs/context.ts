/**
 * The `context` argument, with the members and property order of Lambda's Node.js runtime. Plain own
 * properties, so handlers that spread or Object.assign it (middleware) keep everything.
 */
import type { NextInvocation } from './runtime-client.js';

/**
 * What the context's flag and legacy methods act on: an Invocation. A streaming invocation has the
 * flag only, as on Lambda (its handler answers through the stream).
 */
export interface ContextControls {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly succeed?: (result?: unknown) => void;
  readonly fail?: (error?: unknown) => void;
  readonly done?: (error?: unknown, result?: unknown) => void;
}

/** Per-function values, read once from the environment at start. */
export interface FunctionMetadata {
  readonly functionName: string;
  readonly functionVersion: string;
  /** A string, as on Lambda (it comes from AWS_LAMBDA_FUNCTION_MEMORY_SIZE). */
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

export interface LambdaContext extends FunctionMetadata {
  callbackWaitsForEmptyEventLoop: boolean;
  succeed?(result?: unknown): void;
  fail?(error?: unknown): void;
  done?(error?: unknown, result?: unknown): void;
  clientContext: unknown;
  identity: unknown;
  invokedFunctionArn: string;
  awsRequestId: string;
  tenantId?: string;
  getRemainingTimeInMillis(): number;
}

function parseJsonHeader(value: string | undefined, name: string): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${(err as Error).message}`, { cause: err });
  }
}

export function createContext(
  metadata: FunctionMetadata,
  next: NextInvocation,
  invocation: ContextControls,
): LambdaContext {
  const deadlineMs = next.deadlineMs;
  const context: LambdaContext = {
    get callbackWaitsForEmptyEventLoop() {
      return invocation.callbackWaitsForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      invocation.callbackWaitsForEmptyEventLoop = value;
    },
    ...(invocation.succeed && { succeed: invocation.succeed, fail: invocation.fail, done: invocation.done }),
    functionVersion: metadata.functionVersion,
    functionName: metadata.functionName,
    memoryLimitInMB: metadata.memoryLimitInMB,
    logGroupName: metadata.logGroupName,
    logStreamName: metadata.logStreamName,
    clientContext: parseJsonHeader(next.clientContext, 'ClientContext'),
    identity: parseJsonHeader(next.cognitoIdentity, 'CognitoIdentity'),
    invokedFunctionArn: next.invokedFunctionArn,
    awsRequestId: next.requestId,
    getRemainingTimeInMillis: () => deadlineMs - Date.now(),
  };
  if (next.tenantId !== undefined) context.tenantId = next.tenantId;
  return context;
}
