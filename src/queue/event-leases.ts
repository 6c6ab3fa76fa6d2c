import type { Clock, Logger } from '../shared/index.js';
import type { EventQueueTable, QueuedEvent } from '../store/index.js';

/** Events leased together, under a lease name of their own. */
export interface LeasedBatch {
  readonly name: string;
  readonly events: readonly QueuedEvent[];
}

export interface EventLeasesOptions {
  /** This process: the prefix of every lease name it takes. */
  readonly owner: string;
  /** How long a lease lasts unless renewed. */
  readonly visibilityTimeoutMs: number;
}

/**
 * The leases one process holds on queued events. Each batch is leased under its own name
 * (`<owner>/<n>`) and renewed every third of the visibility timeout until its events are settled,
 * close included: a renewal extends exactly the events still being worked on. A batch whose
 * outcomes could not be written is no longer renewed, so its events come back when the lease ends
 * (at least once), instead of staying hidden for as long as this process lives; a clean stop
 * releases them at once. A process that dies renews nothing: its leases simply expire.
 */
export class EventLeases {
  readonly #table: EventQueueTable;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: EventLeasesOptions;
  #sequence = 0;
  /** Batches being worked on, with their next renewal. */
  readonly #renewing = new Map<string, NodeJS.Timeout>();
  /** Batches given up with outcomes unwritten, and when: their leases end on their own by then + the timeout. */
  readonly #unwritten = new Map<string, number>();

  constructor(deps: { table: EventQueueTable; clock: Clock; logger: Logger }, options: EventLeasesOptions) {
    this.#table = deps.table;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#options = options;
  }

  /** Leases up to `limit` visible events as one batch, renewed until `finish`; undefined if none are visible. */
  async take(limit: number): Promise<LeasedBatch | undefined> {
    const name = `${this.#options.owner}/${++this.#sequence}`;
    const now = this.#clock.now();
    const events = await this.#table.lease(name, limit, now, now + this.#options.visibilityTimeoutMs);
    if (events.length === 0) return undefined;
    this.#renewLater(name);
    return { name, events };
  }

  /** The batch is done: every outcome written, or (`written` false) some could not be. */
  finish(batch: LeasedBatch, written: boolean): void {
    this.#stopRenewing(batch.name);
    if (written) return;
    const now = this.#clock.now();
    // Only leases that may still be live are worth releasing at close: the rest ended on their own.
    for (const [name, at] of this.#unwritten) if (at + this.#options.visibilityTimeoutMs <= now) this.#unwritten.delete(name);
    this.#unwritten.set(batch.name, now);
  }

  /** Hands the batch's events back untouched: visible to every poller at once. */
  async release(batch: LeasedBatch): Promise<void> {
    this.#stopRenewing(batch.name);
    await this.#table.release(batch.name, this.#clock.now()).catch((err: unknown) => {
      this.#unwritten.set(batch.name, this.#clock.now());
      this.#logger.error('could not release event leases; they end on their own', { error: String(err) });
    });
  }

  /** At a clean stop: ends every lease still held, so another process runs those events at once. */
  async releaseAll(): Promise<void> {
    const names = [...this.#renewing.keys(), ...this.#unwritten.keys()];
    for (const name of this.#renewing.keys()) this.#stopRenewing(name);
    this.#unwritten.clear();
    for (const name of names) {
      await this.#table.release(name, this.#clock.now()).catch((err: unknown) => {
        this.#logger.error('could not release event leases; they end on their own', { error: String(err) });
      });
    }
  }

  #stopRenewing(name: string): void {
    const timer = this.#renewing.get(name);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
    this.#renewing.delete(name);
  }

  /** Three renewals per lease: it outlives a slow or failed store answer or two. */
  #renewLater(name: string): void {
    const every = Math.max(1, Math.floor(this.#options.visibilityTimeoutMs / 3));
    const timer = this.#clock.setTimeout(() => {
      const now = this.#clock.now();
      this.#table
        .renew(name, now, now + this.#options.visibilityTimeoutMs)
        .catch((err: unknown) => this.#logger.error('could not renew event leases', { error: String(err) }))
        .finally(() => {
          // Finished meanwhile: the batch's timer was cleared and removed, so the renewals stop.
          if (this.#renewing.get(name) === timer) this.#renewLater(name);
        });
    }, every);
    this.#renewing.set(name, timer);
  }
}
