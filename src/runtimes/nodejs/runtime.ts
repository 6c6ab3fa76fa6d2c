/**
 * The runtime loop: load the handler, then /next → handler → /response or /error, forever.
 * Crashes (uncaught exceptions, unhandled rejections) are reported and end the process, as on Lambda;
 * the host then replaces the environment.
 */
import { streamingMode, type StreamingMode } from './awslambda.js';
import { createContext, type FunctionMetadata } from './context.js';
import { toFormatted, toRapidResponse, UnhandledPromiseRejection } from './errors.js';
import { loadHandler, type Handler } from './handler-loader.js';
import { Invocation, type InvocationSink } from './invocation.js';
import { log, setRequestId } from './logging.js';
import { ResponseStream } from './response-stream.js';
import { errorTrailers, type NextInvocation, type RuntimeClient } from './runtime-client.js';
import { isThenable, StreamingInvocation, type StreamingSink } from './streaming-invocation.js';

/** Lambda's Node.js runtime exits with these after reporting a crash. */
export const EXIT_UNCAUGHT_EXCEPTION = 129;
export const EXIT_UNHANDLED_REJECTION = 128;
/** The Runtime API could not be reached or answered 5xx ("the runtime should exit"). */
export const EXIT_RUNTIME_API_FAILURE = 1;
/** Node's own code for a top-level await that can never settle. */
export const EXIT_UNSETTLED_TOP_LEVEL_AWAIT = 13;

export interface RuntimeOptions {
  client: RuntimeClient;
  metadata: FunctionMetadata;
  taskRoot: string;
  handler: string;
}

/** The error trailers of a streamed response, from what the handler threw. */
function trailersFor(error: unknown): string {
  const response = toRapidResponse(error);
  return errorTrailers(response.errorType, JSON.stringify(response));
}

export class Runtime implements InvocationSink, StreamingSink {
  readonly #client: RuntimeClient;
  readonly #metadata: FunctionMetadata;
  readonly #taskRoot: string;
  readonly #handlerName: string;
  #handler: Handler | undefined;
  #callbackStyle = false;
  #mode: StreamingMode = { streaming: false, highWaterMark: undefined };
  #current: Invocation | StreamingInvocation | undefined;
  #exiting = false;

  constructor(options: RuntimeOptions) {
    this.#client = options.client;
    this.#metadata = options.metadata;
    this.#taskRoot = options.taskRoot;
    this.#handlerName = options.handler;
  }

  /** Installs the process hooks, loads the handler (init) and starts polling. */
  async start(): Promise<void> {
    process.on('uncaughtException', (error) => this.#crash('Uncaught Exception', error, EXIT_UNCAUGHT_EXCEPTION));
    process.on('unhandledRejection', (reason, promise) =>
      this.#crash(
        'Unhandled Promise Rejection',
        new UnhandledPromiseRejection(reason, promise),
        EXIT_UNHANDLED_REJECTION,
      ),
    );
    process.on('beforeExit', () => this.#eventLoopEmptied());
    try {
      const handler = await loadHandler(this.#taskRoot, this.#handlerName);
      this.#mode = streamingMode(handler);
      this.#handler = handler;
    } catch (error) {
      // Lambda reports init failures through its uncaught-exception path.
      this.#crash('Uncaught Exception', error, EXIT_UNCAUGHT_EXCEPTION);
      return;
    }
    // Lambda calls (event, context, callback) handlers callback style; others finish with their return
    // value. A streaming handler's third parameter is its context.
    this.#callbackStyle = !this.#mode.streaming && this.#handler.length >= 3;
    this.#next();
  }

  #next(): void {
    this.#client.next().then(this.#invoke, this.#runtimeApiFailed);
  }

  readonly #invoke = (next: NextInvocation): void => {
    setRequestId(next.requestId);
    if (next.traceId === undefined) delete process.env['_X_AMZN_TRACE_ID'];
    else process.env['_X_AMZN_TRACE_ID'] = next.traceId;
    if (this.#mode.streaming) this.#invokeStreaming(next);
    else this.#invokeBuffered(next);
  };

  #invokeBuffered(next: NextInvocation): void {
    const handler = this.#handler!;
    const invocation = new Invocation(next.requestId, this);
    this.#current = invocation;
    try {
      const context = createContext(this.#metadata, next, invocation);
      const returned = handler(JSON.parse(next.body), context, invocation.callback);
      if (isThenable(returned)) returned.then(invocation.succeed, invocation.fail);
      else if (!this.#callbackStyle) invocation.succeed(returned);
    } catch (error) {
      invocation.fail(error);
    }
  }

  #invokeStreaming(next: NextInvocation): void {
    const client = this.#client;
    const stream = new ResponseStream({
      open: (contentType) => client.openResponseStream(next.requestId, contentType),
      trailers: trailersFor,
      highWaterMark: this.#mode.highWaterMark,
    });
    const invocation = new StreamingInvocation(next.requestId, stream, this);
    this.#current = invocation;
    // Lambda's runtime holds its response request from the start: the process stays up until the stream ends.
    client.hold();
    let event: unknown;
    let context: unknown;
    try {
      context = createContext(this.#metadata, next, invocation);
      event = JSON.parse(next.body);
    } catch (error) {
      invocation.fail(error);
      return;
    }
    invocation.run(this.#handler!, event, context);
  }

  answered(status: number): void {
    this.#posted(status);
  }

  readonly unreachable = (error: unknown): void => this.#runtimeApiFailed(error);

  respond(invocation: Invocation, result: unknown): void {
    let body: string | undefined;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (cause) {
      // Lambda's message for a result JSON cannot encode (a cycle, a BigInt); the cause says which.
      this.reportError(invocation, new Error('Unable to stringify response body', { cause }));
      return;
    }
    // JSON.stringify answers undefined for a function or a symbol: nothing to send but null.
    this.#client.postResponse(invocation.requestId, body ?? 'null').then(this.#posted, this.#runtimeApiFailed);
  }

  reportError(invocation: Invocation, error: unknown): void {
    log('ERROR', `Invoke Error ${toFormatted(error)}`);
    const response = toRapidResponse(error);
    this.#client
      .postError(invocation.requestId, response.errorType, JSON.stringify(response))
      .then(this.#posted, this.#runtimeApiFailed);
  }

  readonly #posted = (status: number): void => {
    if (status >= 500) {
      this.#runtimeApiFailed(new Error(`the Runtime API answered ${status}`));
      return;
    }
    // A 4xx (payload too large, stale id) concerns this invocation only: the host reports it.
    if (status >= 300) process.stderr.write(`kindling runtime: the Runtime API answered ${status}\n`);
    this.#current = undefined;
    this.#next();
  };

  #eventLoopEmptied(): void {
    if (this.#exiting) return;
    if (this.#current !== undefined) {
      this.#current.eventLoopEmptied();
    } else if (this.#handler === undefined) {
      // The handler module awaits something that can never settle: Node ends such a process with 13.
      process.stderr.write('kindling runtime: the handler module never finished loading (unsettled top-level await)\n');
      process.exitCode = EXIT_UNSETTLED_TOP_LEVEL_AWAIT;
    }
  }

  /**
   * Logs the error, reports it (as the init error, or as the current invocation's error when that is
   * still open) and exits with Lambda's code, whatever the post's outcome.
   */
  #crash(label: string, error: unknown, exitCode: number): void {
    if (this.#exiting) return;
    this.#exiting = true;
    log('ERROR', `${label} ${toFormatted(error)}`);
    const response = toRapidResponse(error);
    const body = JSON.stringify(response);
    let posted: Promise<unknown> | undefined;
    const current = this.#current;
    if (this.#handler === undefined) posted = this.#client.postInitError(response.errorType, body);
    // A streamed response is ended with the error in its trailers (or, complete already, sent out first).
    else if (current instanceof StreamingInvocation) posted = current.crash(error);
    else if (current?.claim()) posted = this.#client.postError(current.requestId, response.errorType, body);
    const exit = (): never => process.exit(exitCode);
    if (posted === undefined) exit();
    else posted.then(exit, exit);
  }

  readonly #runtimeApiFailed = (error: unknown): void => {
    if (this.#exiting) return;
    this.#exiting = true;
    process.stderr.write(`kindling runtime: ${(error as Error).message ?? String(error)}\n`);
    process.exit(EXIT_RUNTIME_API_FAILURE);
  };
}
