import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { nodeStatus } from '../node-rows.js';
import type { NodeRow } from '../node-rows.js';
import type { NodeRecord, NodeStatus, NodeTable } from '../types.js';

/** The fleet's nodes. One process writes a SQLite store, so its clock is the store's clock. */
export class SqliteNodeTable implements NodeTable {
  readonly #heartbeat: Database.Statement;
  readonly #list: Database.Statement;
  readonly #remove: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #putSecret: Database.Statement;
  readonly #getSecret: Database.Statement;

  constructor(db: Database.Database) {
    this.#heartbeat = db.prepare(
      `INSERT INTO nodes (id, roles, address, cores, memory_mb, drivers, started_at, lease_ends_at, state, inventory, heartbeat_at)
        VALUES (@id, @roles, @address, @cores, @memoryMb, @drivers, @startedAt, @leaseEndsAt, @state, @inventory, @now)
        ON CONFLICT (id) DO UPDATE SET roles = excluded.roles, address = excluded.address, cores = excluded.cores,
          memory_mb = excluded.memory_mb, drivers = excluded.drivers, started_at = excluded.started_at,
          lease_ends_at = excluded.lease_ends_at, state = excluded.state, inventory = excluded.inventory,
          heartbeat_at = excluded.heartbeat_at`,
    );
    this.#list = db.prepare(
      `SELECT id, roles, address, cores, memory_mb AS memoryMb, drivers, started_at AS startedAt, lease_ends_at AS leaseEndsAt,
        state, inventory, heartbeat_at AS heartbeatAt FROM nodes ORDER BY id`,
    );
    this.#remove = db.prepare('DELETE FROM nodes WHERE id = ?');
    this.#prune = db.prepare('DELETE FROM nodes WHERE heartbeat_at < ?');
    this.#putSecret = db.prepare("INSERT OR IGNORE INTO cluster_settings (name, value) VALUES ('secret', ?)");
    this.#getSecret = db.prepare("SELECT value FROM cluster_settings WHERE name = 'secret'");
  }

  async heartbeat(record: NodeRecord): Promise<void> {
    this.#heartbeat.run({
      id: record.id,
      roles: JSON.stringify(record.roles),
      address: record.address,
      cores: record.cores,
      memoryMb: record.memoryMb,
      drivers: JSON.stringify(record.drivers),
      startedAt: record.startedAt,
      leaseEndsAt: record.leaseEndsAt ?? null,
      state: record.state,
      inventory: record.inventory,
      now: Date.now(),
    });
  }

  async list(): Promise<NodeStatus[]> {
    const now = Date.now();
    return (this.#list.all() as NodeRow[]).map((row) => nodeStatus(row, now - row.heartbeatAt));
  }

  async remove(id: string): Promise<void> {
    this.#remove.run(id);
  }

  async prune(silentMs: number): Promise<number> {
    return this.#prune.run(Date.now() - silentMs).changes;
  }

  async clusterSecret(): Promise<Buffer> {
    // INSERT OR IGNORE: the first secret made is kept, whoever asks later.
    this.#putSecret.run(randomBytes(32));
    return (this.#getSecret.get() as { value: Buffer }).value;
  }
}
