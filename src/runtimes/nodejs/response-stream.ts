/**
 * The `responseStream` a streaming handler writes to: a Node Writable (backpressure, pipeline())
 * whose bytes go to the Runtime API as the chunks of a streamed response, as Lambda's runtime sends
 * them. The response's request starts at the first byte (or at the end), so the content type can be
 * set until the first write.
 */
import { Writable } from 'node:stream';
import type { PreludeTarget } from './awslambda.js';
import { InvalidStreamingOperation } from './errors.js';
import type { ChunkedRequest, RawResponse } from './http-connection.js';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const INVALID_HEADER_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/;

export interface ResponseStreamOptions {
  /** Starts the response's request with the stream's content type. */
  open(contentType: string): ChunkedRequest;
  /** The error trailers (complete header lines) that end a failed response. */
  trailers(error: unknown): string;
  highWaterMark: number | undefined;
}

type WriteCallback = (error?: Error | null) => void;

/** Lambda's runtime writes anything that is not bytes or a string as its JSON. */
function toBytesOrString(chunk: unknown): unknown {
  return typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
}

export class ResponseStream extends Writable implements PreludeTarget {
  /** Set by awslambda.HttpResponseStream.from: writes the prelude ahead of the first byte. */
  _onBeforeFirstWrite: PreludeTarget['_onBeforeFirstWrite'];
  /** Settles with the Runtime API's answer to the response, once its request has ended. */
  readonly answered: Promise<RawResponse>;
  readonly #options: ResponseStreamOptions;
  #contentType = DEFAULT_CONTENT_TYPE;
  #writeCalled = false;
  #request: ChunkedRequest | undefined;
  #failed = false;
  #failure: unknown;
  #answer!: { resolve: (response: RawResponse) => void; reject: (error: unknown) => void };

  constructor(options: ResponseStreamOptions) {
    super(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark });
    this.#options = options;
    this.answered = new Promise((resolve, reject) => (this.#answer = { resolve, reject }));
  }

  setContentType(contentType: string): void {
    if (this.#writeCalled) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    // Node's own check and error for a header value (a CR or LF would start another header).
    if (typeof contentType !== 'string' || INVALID_HEADER_CHARACTER.test(contentType)) {
      throw Object.assign(new TypeError('Invalid character in header content ["Content-Type"]'), { code: 'ERR_INVALID_CHAR' });
    }
    this.#contentType = contentType;
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    this.#beforeFirstWrite();
    return Writable.prototype.write.call(this, toBytesOrString(chunk), encoding as BufferEncoding, callback as WriteCallback);
  }

  // end(chunk) writes without going through write(): the prelude is put first here too.
  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    const data = chunk === undefined || chunk === null || typeof chunk === 'function' ? chunk : toBytesOrString(chunk);
    this.#beforeFirstWrite();
    return Writable.prototype.end.call(this, data, encoding as BufferEncoding, callback as () => void) as this;
  }

  /**
   * Ends the response with `error` in its trailers after what was written so far, as Lambda's
   * runtime does when the handler fails; nothing is sent when the response is already complete.
   */
  fail(error: unknown): void {
    // Ended by the handler, the response is complete; destroyed, it has been ended with its own error.
    if (this.#failed || this.writableEnded || this.destroyed) return;
    this.#failed = true;
    this.#failure = error;
    // After what is written so far, _final adds the trailers. No prelude for a failure.
    super.end();
  }

  /** Ends the response with `error` now, dropping what waits in the buffer (the process is ending). */
  abort(error: unknown): void {
    this.#failed = true;
    this.#failure = error;
    this.#endRequest();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    const request = this.#request ?? this.#start();
    if (request.write(chunk)) callback();
    else request.onDrain(() => callback());
  }

  override _final(callback: WriteCallback): void {
    this.#endRequest();
    callback();
  }

  /**
   * Destroyed before its end (pipeline() does so when its source fails): the response ends with the
   * error. Destroyed once the handler ended it (a write after the end does so), it is complete.
   */
  override _destroy(error: Error | null, callback: WriteCallback): void {
    if (!this.#request?.ended) {
      if (!this.#failed && !this.writableEnded) {
        this.#failed = true;
        this.#failure = error ?? new InvalidStreamingOperation('The response stream was destroyed before it ended.');
      }
      this.#endRequest();
    }
    callback(error);
  }

  #beforeFirstWrite(): void {
    if (this.#writeCalled) return;
    this.#writeCalled = true;
    const hook = this._onBeforeFirstWrite;
    if (typeof hook === 'function') hook((chunk) => super.write(chunk));
  }

  #start(): ChunkedRequest {
    const request = this.#options.open(this.#contentType);
    this.#request = request;
    request.response.then(this.#answer.resolve, this.#answer.reject);
    return request;
  }

  #endRequest(): void {
    const request = this.#request ?? this.#start();
    request.end(this.#failed ? this.#options.trailers(this.#failure) : undefined);
  }
}
