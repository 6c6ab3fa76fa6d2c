/**
 * Runs tasks one at a time per key, in the order they were asked for. A check and the store write
 * it guards span an await now that the store is asynchronous: holding the key's turn across both
 * keeps them one step, as they were when the store answered at once.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous === undefined ? Promise.resolve().then(task) : previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
