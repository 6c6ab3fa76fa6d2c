import type Database from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';

/** The longest the next fsync waits for the callers the last one answered to come back. */
const GATHER_MS = 1;

/** Commits waiting for one fsync. */
interface Waiting {
  weight: number;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

function waiting(): Waiting {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { weight: 0, promise, resolve, reject };
}

/**
 * How the hot writes (queued events, log lines, leases, outcomes) reach the disk without holding
 * the event loop. better-sqlite3 is synchronous: a commit at `synchronous = FULL` stops every
 * request for the length of an fsync (4 ms on a plain ext4 disk), and a flood of Event invokes then
 * spends most of its time there. Instead these commits run at NORMAL (in WAL mode: written to the
 * log, no fsync), and `durably` then fsyncs the log on libuv's thread pool, one fsync for every
 * commit made while the previous one ran (group commit). What it resolves is on disk: the log holds
 * the commit, and a checkpoint fsyncs the log before it copies it into the database.
 */
export class Commits {
  readonly #normal: Database.Statement;
  readonly #full: Database.Statement;
  /** The write-ahead log's file; undefined for a database in memory, which has none. */
  readonly #walPath: string | undefined;
  #fd: number | undefined;
  /** Commits waiting for the next fsync. */
  #waiting: Waiting | undefined;
  /** The commits the fsync under way answers. */
  #inFlight: Waiting | undefined;
  /** How many callers the last fsync answered. */
  #lastWeight = 0;
  #gather: NodeJS.Timeout | undefined;

  constructor(db: Database.Database, path: string) {
    this.#normal = db.prepare('PRAGMA synchronous = NORMAL');
    this.#full = db.prepare('PRAGMA synchronous = FULL');
    this.#walPath = path === ':memory:' ? undefined : `${path}-wal`;
  }

  /**
   * Runs `work` (its own transaction) without an fsync of its own: lost in a power cut, a lease or
   * an outcome only makes an event run again (at least once). The next fsync carries it along.
   */
  relaxed<T>(work: () => T): T {
    this.#normal.run();
    try {
      return work();
    } finally {
      this.#full.run();
    }
  }

  /**
   * Runs `work` (its own transaction) and resolves once it is fsynced, without blocking meanwhile.
   * `weight`: how many waiting callers this commit answers (the events of a group commit).
   */
  async durably<T>(work: () => T, weight = 1): Promise<T> {
    const result = this.relaxed(work);
    await this.#sync(weight);
    return result;
  }

  /** Waits for the fsync in flight, then closes the log's file. */
  async close(): Promise<void> {
    for (let next = this.#inFlight ?? this.#waiting; next; next = this.#inFlight ?? this.#waiting) await next.promise.catch(() => {});
    if (this.#gather !== undefined) clearTimeout(this.#gather);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #sync(weight: number): Promise<void> {
    if (this.#walPath === undefined) return Promise.resolve();
    const next = (this.#waiting ??= waiting());
    next.weight += weight;
    this.#startSoon();
    return next.promise;
  }

  /**
   * Starts the next fsync once the one in flight is done and the callers the last one answered are
   * back (or GATHER_MS has passed): closed-loop clients answered together come back together, and
   * one fsync then answers them all instead of splitting them into two cohorts that alternate.
   */
  #startSoon(): void {
    const waiting = this.#waiting;
    if (this.#inFlight !== undefined || waiting === undefined) return;
    if (waiting.weight >= this.#lastWeight) return this.#start(waiting);
    this.#gather ??= setTimeout(() => {
      this.#gather = undefined;
      if (this.#inFlight === undefined && this.#waiting) this.#start(this.#waiting);
    }, GATHER_MS);
  }

  #start(waiting: Waiting): void {
    if (this.#gather !== undefined) clearTimeout(this.#gather);
    this.#gather = undefined;
    this.#waiting = undefined;
    this.#inFlight = waiting;
    this.#lastWeight = waiting.weight;
    try {
      // Opened once the log exists (WAL mode makes it at the first write); fsync needs no write access.
      this.#fd ??= openSync(this.#walPath!, 'r');
    } catch (err) {
      this.#inFlight = undefined;
      return waiting.reject(err);
    }
    fdatasync(this.#fd, (err) => {
      this.#inFlight = undefined;
      if (err) waiting.reject(err);
      else waiting.resolve();
      this.#startSoon();
    });
  }
}
