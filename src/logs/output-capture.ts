import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.js';
import type { LogSink } from './log-sink.js';
import { logsDroppedLine } from './platform-lines.js';

/**
 * What one phase of an environment (its Init, one invocation, the time between invocations) may
 * write to its log; the rest is counted and reported, not stored. CloudWatch has no such limit, but
 * its ingestion quotas throttle a flood; here one function must not fill the disk or hold the
 * store for minutes (docs/logs-api.md).
 */
export const MAX_PHASE_LOG_BYTES = 16 * 1024 * 1024;

/** The phase output is counted against, named as Lambda's INIT_REPORT names phases. */
export type CapturePhase = { readonly kind: 'init' } | { readonly kind: 'invoke'; readonly requestId: string } | { readonly kind: 'idle' };

/**
 * Reads an environment's stdout and stderr into its log with back-pressure: while the log sink is
 * over its budget the pipes are not read, so a flooding function blocks on its full pipe instead
 * of growing the server. Past the phase's byte limit, output is read and counted but not kept.
 */
export class OutputCapture {
  readonly #sink: LogSink;
  readonly #onLine: (line: string) => void;
  readonly #limitBytes: number;
  readonly #paused = new Set<Readable>();
  #phase: CapturePhase = { kind: 'init' };
  #keptBytes = 0;
  #droppedBytes = 0;
  /** A stream was resumed since the last check: it reads again only on a later turn. */
  #resumed = false;
  #open = 0;

  constructor(deps: { sink: LogSink; onLine: (line: string) => void; limitBytes?: number }) {
    this.#sink = deps.sink;
    this.#onLine = deps.onLine;
    this.#limitBytes = deps.limitBytes ?? MAX_PHASE_LOG_BYTES;
  }

  attach(stream: Readable): void {
    const splitter = new LineSplitter(this.#onLine);
    this.#open++;
    stream.on('data', (chunk: Buffer | string) => {
      this.#take(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, splitter);
      if (this.#sink.full) this.#pause(stream);
    });
    stream.once('end', () => {
      splitter.end();
      // The runtime is gone: what its last phase dropped is reported now.
      if (--this.#open === 0) this.#report();
    });
  }

  /** Ends the current phase (reporting what it dropped) and counts what follows against `next`. */
  enter(next: CapturePhase): void {
    this.#report();
    this.#phase = next;
  }

  /**
   * Resolves once output written before now has been read from the pipes, as far as the host can
   * tell: the runtime writes synchronously before it answers, so its output is in the pipe, and a
   * turn of the event loop with every stream reading takes it in (a resumed stream needs one more).
   */
  async caughtUp(): Promise<void> {
    let turns = 1;
    for (;;) {
      if (this.#paused.size > 0) {
        await this.#sink.drained();
        turns = 2;
        continue;
      }
      this.#resumed = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#resumed || this.#paused.size > 0) turns = 2;
      else if (--turns === 0) return;
    }
  }

  #take(chunk: Buffer, splitter: LineSplitter): void {
    const room = this.#limitBytes - this.#keptBytes;
    if (chunk.length <= room) {
      this.#keptBytes += chunk.length;
      splitter.push(chunk);
      return;
    }
    if (room > 0) {
      this.#keptBytes = this.#limitBytes;
      splitter.push(chunk.subarray(0, room));
      splitter.end();
    }
    this.#droppedBytes += chunk.length - Math.max(0, room);
  }

  #pause(stream: Readable): void {
    if (this.#paused.has(stream)) return;
    this.#paused.add(stream);
    stream.pause();
    void this.#sink.drained().then(() => {
      this.#paused.delete(stream);
      this.#resumed = true;
      stream.resume();
    });
  }

  #report(): void {
    if (this.#droppedBytes > 0) {
      const phase = this.#phase;
      this.#onLine(logsDroppedLine(phase.kind, this.#droppedBytes, this.#limitBytes, phase.kind === 'invoke' ? phase.requestId : undefined));
    }
    this.#keptBytes = 0;
    this.#droppedBytes = 0;
  }
}
