import type Database from 'better-sqlite3';
import type { ChangeFeed, ChangeListener, StoreChange } from '../types.js';

/**
 * Function revisions and the in-process change feed of the SQLite store. Every write about a
 * function goes through `write`: the write and its revision bump commit together, and the change is
 * announced once committed. One process owns a SQLite file, so in-process listeners see every change.
 */
export class SqliteFunctionChanges implements ChangeFeed {
  readonly #db: Database.Database;
  readonly #listeners = new Set<ChangeListener>();
  readonly #bump: Database.Statement;
  readonly #get: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#bump = db.prepare(`INSERT INTO function_revisions (name, revision)
      VALUES (?, (SELECT COALESCE(MAX(revision), 0) + 1 FROM function_revisions))
      ON CONFLICT (name) DO UPDATE SET revision = excluded.revision RETURNING revision`);
    this.#get = db.prepare('SELECT revision FROM function_revisions WHERE name = ?');
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `work` and bumps the function's revision in one transaction, then announces the change. */
  write<T>(name: string, work: () => T): T {
    let revision = 0;
    const result = this.#db.transaction(() => {
      const value = work();
      revision = (this.#bump.get(name) as { revision: number }).revision;
      return value;
    })();
    this.#announce({ name, revision });
    return result;
  }

  /** The function's current revision (inside a read transaction someone else holds). */
  revision(name: string): number {
    return (this.#get.get(name) as { revision: number } | undefined)?.revision ?? 0;
  }

  #announce(change: StoreChange): void {
    for (const listener of this.#listeners) listener.change(change);
  }
}
