import type Database from 'better-sqlite3';
import { layerPolicyOwner } from '../policy-owner.js';
import type { LayerTable, LayerVersionRecord, NewLayerVersion } from '../types.js';

/**
 * Layer versions, one JSON record each. A deleted version keeps its row (flagged), so its number
 * is never handed out again and functions that still use it can be measured.
 */
export class SqliteLayerTable implements LayerTable {
  readonly #db: Database.Database;
  readonly #next: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #versions: Database.Statement;
  readonly #list: Database.Statement;
  readonly #delete: Database.Statement;
  /** A layer version's policy goes with it. */
  readonly #deletePolicy: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#next = db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM layer_versions WHERE layer_name = ?');
    this.#insert = db.prepare('INSERT INTO layer_versions (layer_name, version, record) VALUES (?, ?, ?)');
    this.#get = db.prepare('SELECT record, deleted FROM layer_versions WHERE layer_name = ? AND version = ?');
    this.#versions = db.prepare('SELECT record FROM layer_versions WHERE layer_name = ? AND deleted = 0 ORDER BY version DESC');
    this.#list = db.prepare('SELECT record FROM layer_versions WHERE deleted = 0 ORDER BY layer_name, version DESC');
    this.#delete = db.prepare('UPDATE layer_versions SET deleted = 1 WHERE layer_name = ? AND version = ? AND deleted = 0');
    this.#deletePolicy = db.prepare('DELETE FROM resource_policies WHERE owner = ? AND qualifier = ?');
  }

  async publish(layer: NewLayerVersion): Promise<LayerVersionRecord> {
    return this.#db.transaction(() => {
      const { next } = this.#next.get(layer.layerName) as { next: number };
      const record: LayerVersionRecord = { ...layer, version: next };
      this.#insert.run(layer.layerName, next, JSON.stringify(record));
      return record;
    })();
  }

  async get(layerName: string, version: number, options: { includeDeleted?: boolean } = {}): Promise<LayerVersionRecord | undefined> {
    const row = this.#get.get(layerName, version) as { record: string; deleted: number } | undefined;
    if (!row || (row.deleted !== 0 && !options.includeDeleted)) return undefined;
    return JSON.parse(row.record) as LayerVersionRecord;
  }

  async listVersions(layerName: string): Promise<LayerVersionRecord[]> {
    return (this.#versions.all(layerName) as { record: string }[]).map((row) => JSON.parse(row.record) as LayerVersionRecord);
  }

  async list(): Promise<LayerVersionRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as LayerVersionRecord);
  }

  async delete(layerName: string, version: number): Promise<boolean> {
    return this.#db.transaction(() => {
      this.#deletePolicy.run(layerPolicyOwner(layerName), String(version));
      return this.#delete.run(layerName, version).changes > 0;
    })();
  }
}
