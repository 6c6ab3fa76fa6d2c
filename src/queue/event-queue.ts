import { EventEmitter } from 'node:events';
import { ServiceException, type Logger } from '../shared/index.js';
import type { EventQueueTable, NewEvent } from '../store/index.js';

interface Waiting {
  readonly event: NewEvent;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The front of the durable queue: `enqueue` resolves only once the event is committed and
 * fsynced. Events arriving in the same turn of the event loop share one transaction (group
 * commit): one fsync for many 202s.
 */
export class EventQueue extends EventEmitter<{ available: [] }> {
  readonly #table: EventQueueTable;
  readonly #logger: Logger;
  #waiting: Waiting[] = [];
  #scheduled = false;

  constructor(deps: { table: EventQueueTable; logger: Logger }) {
    super();
    this.#table = deps.table;
    this.#logger = deps.logger;
  }

  enqueue(event: NewEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ event, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /** The 202s wait for this: each batch's events are resolved only once the store has committed them. */
  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    try {
      await this.#table.enqueue(batch.map((w) => w.event));
    } catch (err) {
      this.#logger.error('could not store events', { count: batch.length, error: String(err) });
      const failure = new ServiceException('Kindling could not store the event; nothing was queued. Try again.', { cause: err });
      for (const w of batch) w.reject(failure);
      return;
    }
    for (const w of batch) w.resolve();
    this.emit('available');
  }
}
