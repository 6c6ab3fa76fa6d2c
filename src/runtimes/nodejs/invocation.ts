/**
 * One invocation's completion. The handler may finish it several ways (its callback, a returned
 * promise, context.done/succeed/fail, or by letting the event loop empty); as on Lambda the first one
 * wins and the rest are ignored.
 */
export interface InvocationSink {
  /** Posts the result to /response. */
  respond(invocation: Invocation, result: unknown): void;
  /** Logs and posts the error to /error. */
  reportError(invocation: Invocation, error: unknown): void;
}

export class Invocation {
  /** Exposed as context.callbackWaitsForEmptyEventLoop. */
  callbackWaitsForEmptyEventLoop = true;
  readonly requestId: string;
  readonly #sink: InvocationSink;
  #settled = false;
  #waitingForEmptyEventLoop = false;
  #waitingResult: unknown;
  #reported = false;

  constructor(requestId: string, sink: InvocationSink) {
    this.requestId = requestId;
    this.#sink = sink;
  }

  /** The handler's third argument. Honours callbackWaitsForEmptyEventLoop for a success. */
  readonly callback = (error?: unknown, result?: unknown): void => {
    this.#settle(error, result, this.callbackWaitsForEmptyEventLoop);
  };

  /** context.done and the legacy methods never wait for the event loop (Lambda's done sets it false). */
  readonly done = (error?: unknown, result?: unknown): void => this.#settle(error, result, false);
  readonly succeed = (result?: unknown): void => this.#settle(null, result, false);
  // Lambda reports a failure without a reason as the string 'handled'.
  readonly fail = (error?: unknown): void => this.#settle(error ?? 'handled', undefined, false);

  #settle(error: unknown, result: unknown, waitForEmptyEventLoop: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    if (error !== null && error !== undefined) {
      if (this.claim()) this.#sink.reportError(this, error);
    } else if (waitForEmptyEventLoop) {
      this.#waitingForEmptyEventLoop = true;
      this.#waitingResult = result;
    } else if (this.claim()) {
      this.#sink.respond(this, result);
    }
  }

  /**
   * Called on the process's `beforeExit`: posts a success that waited for the event loop, or `null`
   * when the handler never answered (Lambda's default when nothing is left to run).
   */
  eventLoopEmptied(): void {
    if (this.#settled && !this.#waitingForEmptyEventLoop) return;
    this.#settled = true;
    if (this.claim()) this.#sink.respond(this, this.#waitingResult);
  }

  /** True once: whoever gets it posts this invocation's outcome (the runtime uses it on a crash). */
  claim(): boolean {
    if (this.#reported) return false;
    this.#reported = true;
    return true;
  }
}
