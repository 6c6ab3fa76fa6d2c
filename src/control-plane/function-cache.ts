import type { Logger } from '../shared/index.js';
import type { FunctionSnapshot, Store } from '../store/index.js';

/** A component that caches something about functions: it takes a function's new state whole. */
export interface CachedPart {
  /** Replaces what is cached about `snapshot.name` (called in the function's turn). */
  apply(snapshot: FunctionSnapshot): void;
}

/**
 * Keeps the control plane's caches true to the store. The store is the source of truth; every
 * cached function carries the revision it was read at, and the store's change feed (every commit,
 * this process's and other servers') says when a function has a newer one. The function is then
 * read again, whole, in its turn, and handed to every part. A lost feed (a dropped connection)
 * means changes may have been missed: every function is read again.
 */
export class FunctionCache {
  readonly #store: Store;
  readonly #turn: <T>(name: string, task: () => Promise<T>) => Promise<T>;
  readonly #names: () => Iterable<string>;
  readonly #logger: Logger;
  readonly #parts: CachedPart[] = [];
  readonly #revisions = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: {
    store: Store;
    /** Runs a task in the function's turn (FunctionRegistry.exclusive). */
    turn: <T>(name: string, task: () => Promise<T>) => Promise<T>;
    /** Every function name cached now (for a resync). */
    names: () => Iterable<string>;
    logger: Logger;
  }) {
    this.#store = deps.store;
    this.#turn = deps.turn;
    this.#names = deps.names;
    this.#logger = deps.logger;
  }

  add(part: CachedPart): void {
    this.#parts.push(part);
  }

  /** Follows the change feed from now on (after the caches were loaded). */
  watch(): void {
    this.#unsubscribe ??= this.#store.changes.subscribe({
      change: ({ name, revision }) => {
        if (revision > (this.#revisions.get(name) ?? 0)) void this.#refreshInTurn(name, revision);
      },
      resync: () => void this.#resync(),
    });
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Reads the function again and hands it to every part. Call it in the function's turn. */
  async refresh(name: string): Promise<void> {
    const snapshot = await this.#store.functions.snapshot(name);
    if (snapshot.revision !== 0 && snapshot.revision < (this.#revisions.get(name) ?? 0)) return;
    this.#revisions.set(name, snapshot.revision);
    for (const part of this.#parts) part.apply(snapshot);
  }

  #refreshInTurn(name: string, revision: number): Promise<void> {
    return this.#turn(name, async () => {
      if (revision <= (this.#revisions.get(name) ?? 0)) return; // read already, by an earlier refresh
      await this.refresh(name);
    }).catch((err: unknown) => {
      // The next change or resync reads it again; until then the cache keeps the last state it saw.
      this.#logger.error('could not read a changed function from the store', { name, error: String(err) });
    });
  }

  async #resync(): Promise<void> {
    try {
      const names = new Set(this.#names());
      for (const record of await this.#store.functions.list()) names.add(record.name);
      await Promise.all([...names].map((name) => this.#turn(name, () => this.refresh(name))));
      this.#logger.info('function caches read again from the store', { functions: names.size });
    } catch (err) {
      this.#logger.error('could not read the functions again after the change feed was lost', { error: String(err) });
    }
  }
}
