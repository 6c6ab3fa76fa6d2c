import pg from 'pg';
import type { Logger } from '../../shared/index.js';
import type { ChangeFeed, ChangeListener, StoreChange } from '../types.js';
import type { PgDatabase, Sql } from './database.js';

const CHANNEL = 'kindling_changes';
/** Reconnect backoff of the listening connection. */
const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 2_000;
/** A silently dead connection (a network cut) sends no error: a heartbeat finds it. */
const HEARTBEAT_MS = 5_000;

/**
 * The revision is taken in the conflict branch, after the row lock: a later writer of the same
 * function always gets a higher one (a value drawn before waiting could be lower). The notification
 * is delivered to every listener, this process's included, when the transaction commits.
 */
const BUMP = `WITH bumped AS (
    INSERT INTO function_revisions (name, revision) VALUES ($1, nextval('function_revision_seq'))
    ON CONFLICT (name) DO UPDATE SET revision = nextval('function_revision_seq')
    RETURNING revision
  )
  SELECT pg_notify('${CHANNEL}', json_build_object('name', $1::text, 'revision', revision)::text) FROM bumped`;

/**
 * Function revisions and the change feed of the PostgreSQL store: writes bump the revision and
 * NOTIFY in their transaction; one dedicated connection LISTENs. When it is lost, it reconnects
 * with backoff and tells every subscriber to resync, as notifications sent meanwhile are gone.
 */
export class PgFunctionChanges implements ChangeFeed {
  readonly #db: PgDatabase;
  readonly #config: pg.ClientConfig;
  readonly #logger: Logger;
  readonly #listeners = new Set<ChangeListener>();
  #client: pg.Client | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #closed = false;

  constructor(db: PgDatabase, config: pg.ClientConfig, logger: Logger) {
    this.#db = db;
    this.#config = config;
    this.#logger = logger;
  }

  /** Connects the listening client; rejects if it cannot. */
  async start(): Promise<void> {
    await this.#connect();
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `work` and bumps the function's revision in one transaction (the change goes out on commit). */
  write<T>(name: string, work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (sql) => {
      const result = await work(sql);
      await sql.run(BUMP, [name]);
      return result;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (this.#retry) {
      clearTimeout(this.#retry.timer);
      this.#retry.wake();
    }
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client));
    client.on('notification', (message) => this.#deliver(message.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw this.#db.error(err);
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((err: unknown) => this.#lost(client, err));
    }, HEARTBEAT_MS).unref();
  }

  #lost(client: pg.Client, err?: unknown): void {
    if (this.#closed || client !== this.#client) return;
    this.#client = undefined;
    clearInterval(this.#heartbeat);
    this.#logger.warn('lost the PostgreSQL change feed; reconnecting', { error: err instanceof Error ? err.message : 'connection ended' });
    client.end().catch(() => {});
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    for (let delay = FIRST_RETRY_MS; !this.#closed; delay = Math.min(delay * 2, LAST_RETRY_MS)) {
      await new Promise<void>((wake) => {
        this.#retry = { timer: setTimeout(wake, delay).unref(), wake };
      });
      this.#retry = undefined;
      if (this.#closed) return;
      try {
        await this.#connect();
      } catch (err) {
        this.#logger.debug('the PostgreSQL change feed cannot reconnect yet', { error: String(err) });
        continue;
      }
      if (this.#closed) return;
      this.#logger.info('the PostgreSQL change feed is back; every cached function is read again');
      for (const listener of this.#listeners) listener.resync();
      return;
    }
  }

  #deliver(payload: string | undefined): void {
    let change: StoreChange;
    try {
      const parsed = JSON.parse(payload ?? '') as { name?: unknown; revision?: unknown };
      if (typeof parsed.name !== 'string' || typeof parsed.revision !== 'number') throw new TypeError('not a change');
      change = { name: parsed.name, revision: parsed.revision };
    } catch {
      this.#logger.warn('ignored a malformed notification on the change feed', { payload });
      return;
    }
    for (const listener of this.#listeners) listener.change(change);
  }
}
