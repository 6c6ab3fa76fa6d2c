import type { FunctionRecord } from '../store/index.js';

/** What the invoke service asks of an environment. */
export interface InvokeRequest {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly invokedFunctionArn: string;
  /** JSON text of the client context. */
  readonly clientContext?: string;
  /** Keep the invocation's log for X-Amz-Log-Result. */
  readonly tail: boolean;
  /**
   * Where a streamed response goes as the runtime writes it (InvokeWithResponseStream, function
   * URLs in RESPONSE_STREAM mode). Without it a streamed response is gathered and answered whole.
   */
  readonly stream?: ResponseSink;
}

/** The reader of a streamed response (docs/function-urls.md). */
export interface ResponseSink {
  /** The runtime began a streamed response with this Content-Type; called once, before any chunk. */
  start(contentType: string): void;
  /**
   * A chunk, in order, as the runtime wrote it. False: the reader is behind (its client reads
   * slowly); the writer holds the next chunk until `drained` calls back (backpressure).
   */
  write(chunk: Buffer): boolean | void;
  /** Calls `listener` once the reader has caught up (or will never: its client went away). */
  drained?(listener: () => void): void;
}

export interface InvokeResult {
  readonly payload: Buffer;
  /** Set when the function failed (Lambda's X-Amz-Function-Error: Unhandled). */
  readonly functionError: boolean;
  /** The invocation's log lines, when `tail` was asked for. */
  readonly log?: string;
  readonly executedVersion: string;
  /**
   * The response body went to `request.stream` as it was written: `payload` is then empty, or the
   * error body (`{errorType, errorMessage, ...}`) when `functionError` is set (an error before or
   * mid-stream, from the runtime's trailers, a timeout or a crash).
   */
  readonly streamed?: boolean;
}

/**
 * Where invocations run: this process's WorkerFleet (`--role all`), or the fleet's workers through
 * placement (an `api` or `poller` node). The invoke service and provisioned concurrency see only this.
 */
export interface Runner {
  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult>;
  /** Keeps `count` environments of this version initialised ahead of time (0 to stop). */
  provision(fn: FunctionRecord, count: number): void;
  /** Provisioned environments of this version that are initialised and ready. */
  provisionedReady(fn: FunctionRecord): number;
  /** Retires the environments of one version of a function, or of all its versions. */
  retire(name: string, version?: string): void;
  close(): Promise<void>;
}
