import type { Clock, Logger } from '../shared/index.js';
import type { LogBatch, Store } from '../store/index.js';

/** CloudWatch Logs' limit on one event; longer lines are cut into several events. */
export const MAX_EVENT_BYTES = 256 * 1024;
/**
 * What the sink holds before it writes at once rather than on its timer, in characters of message
 * text: CloudWatch's PutLogEvents takes at most 1 MB per batch. Past it the sink reports itself
 * `full`, and output captures stop reading their pipes until the write is done (docs/logs-api.md).
 */
export const SINK_BUDGET_BYTES = 1024 * 1024;
/** Events held at most: many tiny lines cost more in objects than in text (PutLogEvents: 10,000). */
const MAX_PENDING_EVENTS = 5000;

/**
 * Buffers function log events and writes them to the store in one transaction per flush: a few
 * milliseconds of batching instead of a database write per invocation on the hot path, and never
 * more than SINK_BUDGET_BYTES held, however fast functions write.
 */
export class LogSink {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #flushMs: number;
  #pending = new Map<string, LogBatch>();
  #count = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #drainWaiters: (() => void)[] = [];
  /** The last write handed to the store (settled, never rejecting): writes go in order, one at a time. */
  #writing: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(deps: { store: Store; clock: Clock; logger: Logger; flushMs?: number }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#flushMs = deps.flushMs ?? 50;
  }

  /** Over budget: writers that can wait (a pipe) should, until `drained()` resolves. */
  get full(): boolean {
    return this.#bytes >= SINK_BUDGET_BYTES || this.#count >= MAX_PENDING_EVENTS;
  }

  write(group: string, stream: string, timestamp: number, message: string): void {
    if (this.#closing) return;
    const key = `${group}\n${stream}`;
    let batch = this.#pending.get(key);
    if (!batch) {
      batch = { group, stream, events: [] };
      this.#pending.set(key, batch);
    }
    batch.events.push({ timestamp, message });
    this.#count++;
    this.#bytes += message.length;
    // Full: write on the next turn, once every stream has handed over the chunk it is cutting.
    if (this.full) this.#immediate ??= setImmediate(() => void this.flush().catch(() => {}));
    else this.#timer ??= setTimeout(() => void this.flush().catch(() => {}), this.#flushMs);
  }

  /** Resolves once the sink is below its budget again (at once when it is). */
  drained(): Promise<void> {
    // Writers already waiting wait for the write in flight, which took the sink below its budget
    // but still holds the bytes: joining them keeps a caller from spinning on an answer that is
    // always "drained" while that write (on a network store) has not come back.
    if (!this.full && this.#drainWaiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Commits every event written so far; resolves once they are committed (and every write handed
   * to the store before them), rejects when they could not be. Callers that settle work on the
   * strength of its log (the poller fleet) wait for this.
   */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    if (this.#count === 0) return this.#writing;
    const batches = [...this.#pending.values()];
    const ingestionTime = this.#clock.now();
    this.#pending = new Map();
    this.#count = 0;
    this.#bytes = 0;
    const write = this.#writing
      .then(() => this.#store.logs.append(batches, ingestionTime))
      .catch((err: unknown) => {
        this.#logger.error('could not store function logs', { error: String(err) });
        throw err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        // Filled up again meanwhile: the flush already scheduled for that wakes them.
        if (!this.full) for (const resolve of this.#drainWaiters.splice(0)) resolve();
      });
    this.#writing = write.catch(() => {});
    return write;
  }

  /** Writes what is held and takes no more; resolves once it is written. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.flush().catch(() => {});
    return this.#closing;
  }
}
