/** One invocation as the Runtime API hands it to a runtime. */
export interface Invocation {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  readonly traceId: string;
  /** The client context as JSON text (decoded from X-Amz-Client-Context). */
  readonly clientContext?: string;
}

/**
 * What the runtime answered for an invocation. `streamed`: the body went to the invocation's
 * StreamSink as it arrived (`payload` is then empty, or the error body of the trailers).
 */
export type RuntimeOutcome =
  | { readonly kind: 'response'; readonly payload: Buffer; readonly streamed?: true }
  | { readonly kind: 'error'; readonly errorType: string; readonly payload: Buffer; readonly streamed?: true };

/**
 * Where a streamed response goes as the runtime writes it (the worker's ResponseSink has this shape;
 * the Runtime API does not import the worker).
 */
export interface StreamSink {
  start(contentType: string): void;
  /** False: the reader is behind; hold the runtime's upload until `drained` calls back. */
  write(chunk: Buffer): boolean | void;
  drained?(listener: () => void): void;
}

/** Lambda's limit on a synchronous response (RIE: MaxPayloadSize = 6 MiB + 100 bytes). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/** Lambda's cap on a streamed response (the 20 MB soft limit of InvokeWithResponseStream). */
export const MAX_STREAMED_BYTES = 20 * 1024 * 1024;
/** Lambda streams the first 6 MB of a response uncapped, the rest at up to 2 MB/s (16 Mbps). */
export const STREAM_BURST_BYTES = 6 * 1024 * 1024;
export const STREAM_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** The outcome of a response past `limit` bytes (Lambda's Function.ResponseSizeTooLarge). */
export function tooLarge(limit: number, streamed: boolean): RuntimeOutcome {
  const errorType = 'Function.ResponseSizeTooLarge';
  const errorMessage = `Response payload size exceeded maximum allowed payload size (${limit} bytes).`;
  return { kind: 'error', errorType, payload: Buffer.from(JSON.stringify({ errorMessage, errorType })), ...(streamed ? { streamed: true } : {}) };
}

/** An error body as Lambda's runtimes shape it. */
export function errorPayload(errorType: string, errorMessage: string, trace: string[] = []): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage, trace }));
}
