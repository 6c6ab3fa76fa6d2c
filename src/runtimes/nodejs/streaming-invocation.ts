/**
 * One invocation of a streaming handler (`awslambda.streamifyResponse`), with the semantics of
 * Lambda's Node.js runtime: the handler is called as `(event, responseStream, context)` and must be
 * async; it answers through the stream, and its return value is ignored (with a warning). It is done
 * when the stream has ended and the Runtime API has answered: a stream never ended keeps the
 * invocation open until the function times out. A failure, before or after the first byte, ends the
 * response with the error in its trailers (a failure after the stream ended is only logged).
 */
import { toFormatted } from './errors.js';
import type { Handler } from './handler-loader.js';
import { log } from './logging.js';
import type { ResponseStream } from './response-stream.js';

export interface StreamingSink {
  /** The Runtime API answered the streamed response with `status`. */
  answered(status: number): void;
  /** The response could not be posted. */
  unreachable(error: unknown): void;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

export class StreamingInvocation {
  /** context.callbackWaitsForEmptyEventLoop: settable, without effect on a streamed response. */
  callbackWaitsForEmptyEventLoop = true;
  readonly requestId: string;
  readonly #stream: ResponseStream;
  readonly #sink: StreamingSink;
  #reported = false;

  constructor(requestId: string, stream: ResponseStream, sink: StreamingSink) {
    this.requestId = requestId;
    this.#stream = stream;
    this.#sink = sink;
    // A stream error (a write after end, a failed pipeline) fails the invocation, never the process.
    stream.on('error', (error) => this.fail(error));
  }

  run(handler: Handler, event: unknown, context: unknown): void {
    let returned: unknown;
    try {
      returned = handler(event, this.#stream, context);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (!isThenable(returned)) {
      this.fail(new Error('Streaming does not support non-async handlers.'));
      return;
    }
    returned.then((value) => {
      if (value !== undefined) console.warn('Streaming handlers ignore return values.');
      this.#stream.answered.then((response) => {
        if (this.claim()) this.#sink.answered(response.status);
      }, this.#sink.unreachable);
    }, this.fail);
  }

  /** Logs the error and ends the response with it, unless the response is already complete. */
  readonly fail = (error: unknown): void => {
    if (!this.claim()) return;
    log('ERROR', `Invoke Error ${toFormatted(error)}`);
    this.#stream.fail(error);
    this.#stream.answered.then((response) => this.#sink.answered(response.status), this.#sink.unreachable);
  };

  /**
   * The process is ending (a crash, already logged): ends the response with the error now, or lets
   * a response already complete reach the Runtime API first.
   */
  crash(error: unknown): Promise<unknown> {
    this.#reported = true;
    this.#stream.abort(error);
    return this.#stream.answered;
  }

  /** A streamed response ends with its stream, not with the event loop. */
  eventLoopEmptied(): void {}

  /** True once: whoever gets it reports this invocation's outcome. */
  claim(): boolean {
    if (this.#reported) return false;
    this.#reported = true;
    return true;
  }
}
