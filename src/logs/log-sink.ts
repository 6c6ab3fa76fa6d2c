import type { Clock, Logger } from '../shared/index.js';
import type { LogBatch, Store } from '../store/index.js';

/** CloudWatch Logs' limit on one event; longer lines are cut into several events. */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Buffers function log events and writes them to the store in one transaction per flush: a few
 * milliseconds of batching instead of a database write per invocation on the hot path.
 */
export class LogSink {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #flushMs: number;
  #pending = new Map<string, LogBatch>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: { store: Store; clock: Clock; logger: Logger; flushMs?: number }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#flushMs = deps.flushMs ?? 50;
  }

  write(group: string, stream: string, timestamp: number, message: string): void {
    if (this.#closed) return;
    const key = `${group}\n${stream}`;
    let batch = this.#pending.get(key);
    if (!batch) {
      batch = { group, stream, events: [] };
      this.#pending.set(key, batch);
    }
    batch.events.push({ timestamp, message });
    this.#count++;
    if (this.#count >= 5000) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#count === 0) return;
    const batches = [...this.#pending.values()];
    this.#pending = new Map();
    this.#count = 0;
    try {
      this.#store.logs.append(batches, this.#clock.now());
    } catch (err) {
      this.#logger.error('could not store function logs', { error: String(err) });
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }
}
