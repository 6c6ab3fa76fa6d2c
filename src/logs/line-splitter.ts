import { MAX_EVENT_BYTES } from './log-sink.js';

const NEWLINE = 0x0a;

/**
 * Cuts a runtime's output into log events: one per line. Works on bytes, so a character split
 * across two reads stays whole and an event is cut at CloudWatch's limit in bytes, on a character
 * boundary. Lambda's runtimes write a multi-line message with `\r` for its inner newlines so that it
 * stays one event; those become `\n` again here.
 */
export class LineSplitter {
  readonly #onLine: (line: string) => void;
  /** The start of a line whose end has not come yet: at most MAX_EVENT_BYTES. */
  #rest: Buffer | undefined;

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    const data = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    let start = 0;
    let end: number;
    while ((end = data.indexOf(NEWLINE, start)) !== -1) {
      this.#emit(data, start, end);
      start = end + 1;
    }
    // A line with no end in sight is cut rather than held forever.
    while (data.length - start > MAX_EVENT_BYTES) start = this.#emitPiece(data, start);
    // Copied: a view would keep the whole chunk alive.
    this.#rest = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
  }

  /** The stream ended (or a limit cut it): what is left is a line of its own. */
  end(): void {
    const rest = this.#rest;
    this.#rest = undefined;
    if (rest) this.#emit(rest, 0, rest.length);
  }

  #emit(data: Buffer, start: number, end: number): void {
    while (end - start > MAX_EVENT_BYTES) start = this.#emitPiece(data, start);
    this.#deliver(data.toString('utf8', start, end));
  }

  /** Emits the longest piece from `start` that fits one event and ends on a character boundary. */
  #emitPiece(data: Buffer, start: number): number {
    let cut = start + MAX_EVENT_BYTES;
    // UTF-8 continuation bytes are 10xxxxxx: back off to the first byte of the character.
    while (cut > start + 1 && (data[cut]! & 0xc0) === 0x80) cut--;
    this.#deliver(data.toString('utf8', start, cut));
    return cut;
  }

  #deliver(line: string): void {
    this.#onLine(line.includes('\r') ? line.replaceAll('\r', '\n') : line);
  }
}
