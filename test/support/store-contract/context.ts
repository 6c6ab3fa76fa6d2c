import type { Store } from '../../../src/store/index.js';

/** An empty database of the store under test. */
export interface FreshDatabase {
  /** Opens a store on it (migrating it if needed); may be called again, also while others are open. */
  open(): Promise<Store>;
  /** Removes the database once every store on it is closed. */
  cleanup(): Promise<void>;
}

/** What each part of the contract suite is handed. */
export interface ContractContext {
  /** Several processes may share the store (PostgreSQL). */
  readonly shared: boolean;
  /** A fresh database for this test; stores opened on it are closed after the test. */
  database(): Promise<{ open(): Promise<Store> }>;
  /** A store on a fresh database, closed after the test. */
  store(): Promise<Store>;
}
