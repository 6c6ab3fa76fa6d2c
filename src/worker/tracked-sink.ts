import type { ResponseSink } from './invoke-types.js';

/**
 * A ResponseSink that remembers whether the response began streaming: a timeout or a crash after
 * that answers its error with `streamed` (the client already has part of the body), before it not.
 */
export class TrackedSink implements ResponseSink {
  readonly #sink: ResponseSink;
  #started = false;

  constructor(sink: ResponseSink) {
    this.#sink = sink;
  }

  get started(): boolean {
    return this.#started;
  }

  start(contentType: string): void {
    this.#started = true;
    this.#sink.start(contentType);
  }

  write(chunk: Buffer): boolean | void {
    return this.#sink.write(chunk);
  }

  drained(listener: () => void): void {
    if (this.#sink.drained) this.#sink.drained(listener);
    else listener();
  }
}
