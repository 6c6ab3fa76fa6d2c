import { randomBytes } from 'node:crypto';
import { nodeStatus } from '../node-rows.js';
import type { NodeRow } from '../node-rows.js';
import type { NodeRecord, NodeStatus, NodeTable } from '../types.js';
import { DB_NOW_MS } from './clock.js';
import type { PgDatabase } from './database.js';

/** The fleet's nodes, their heartbeats dated by the database's clock. */
export class PgNodeTable implements NodeTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async heartbeat(record: NodeRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO nodes (id, roles, address, cores, memory_mb, drivers, started_at, lease_ends_at, state, inventory, heartbeat_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ${DB_NOW_MS})
        ON CONFLICT (id) DO UPDATE SET roles = excluded.roles, address = excluded.address, cores = excluded.cores,
          memory_mb = excluded.memory_mb, drivers = excluded.drivers, started_at = excluded.started_at,
          lease_ends_at = excluded.lease_ends_at, state = excluded.state, inventory = excluded.inventory,
          heartbeat_at = excluded.heartbeat_at`,
      [
        record.id,
        JSON.stringify(record.roles),
        record.address,
        record.cores,
        record.memoryMb,
        JSON.stringify(record.drivers),
        record.startedAt,
        record.leaseEndsAt ?? null,
        record.state,
        record.inventory,
      ],
    );
  }

  async list(): Promise<NodeStatus[]> {
    const rows = await this.#db.query<NodeRow & { silentMs: number }>(
      `SELECT id, roles, address, cores, memory_mb AS "memoryMb", drivers, started_at AS "startedAt", lease_ends_at AS "leaseEndsAt",
        state, inventory, heartbeat_at AS "heartbeatAt", ${DB_NOW_MS} - heartbeat_at AS "silentMs" FROM nodes ORDER BY id`,
    );
    return rows.map(({ silentMs, ...row }) => nodeStatus(row, silentMs));
  }

  async remove(id: string): Promise<void> {
    await this.#db.run('DELETE FROM nodes WHERE id = $1', [id]);
  }

  async prune(silentMs: number): Promise<number> {
    return this.#db.run(`DELETE FROM nodes WHERE heartbeat_at < ${DB_NOW_MS} - $1`, [silentMs]);
  }

  async clusterSecret(): Promise<Buffer> {
    // Nodes starting at once each offer a secret; the first insert wins and everyone reads it.
    await this.#db.run("INSERT INTO cluster_settings (name, value) VALUES ('secret', $1) ON CONFLICT (name) DO NOTHING", [randomBytes(32)]);
    const [row] = await this.#db.query<{ value: Buffer }>("SELECT value FROM cluster_settings WHERE name = 'secret'");
    return row!.value;
  }
}
