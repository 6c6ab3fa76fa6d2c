import { layerPolicyOwner } from '../policy-owner.js';
import type { LayerTable, LayerVersionRecord, NewLayerVersion } from '../types.js';
import type { PgDatabase } from './database.js';
import { parseRecords } from './records.js';

/** The advisory lock class of layer names (the second key is the name's hash). */
const LAYER_LOCK = 0x4c61796;

/**
 * Layer versions, one JSON record each. A deleted version keeps its row (flagged), so its number
 * is never handed out again and functions that still use it can be measured.
 */
export class PgLayerTable implements LayerTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async publish(layer: NewLayerVersion): Promise<LayerVersionRecord> {
    return this.#db.transaction(async (sql) => {
      // Two servers publishing the same layer at once take turns: each gets its own number.
      await sql.run('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LAYER_LOCK, layer.layerName]);
      const [row] = await sql.query<{ next: number }>(
        'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM layer_versions WHERE layer_name = $1',
        [layer.layerName],
      );
      const record: LayerVersionRecord = { ...layer, version: row!.next };
      await sql.run('INSERT INTO layer_versions (layer_name, version, record) VALUES ($1, $2, $3)', [
        layer.layerName,
        record.version,
        JSON.stringify(record),
      ]);
      return record;
    });
  }

  async get(layerName: string, version: number, options: { includeDeleted?: boolean } = {}): Promise<LayerVersionRecord | undefined> {
    const [row] = await this.#db.query<{ record: string; deleted: boolean }>(
      'SELECT record, deleted FROM layer_versions WHERE layer_name = $1 AND version = $2',
      [layerName, version],
    );
    if (!row || (row.deleted && !options.includeDeleted)) return undefined;
    return JSON.parse(row.record) as LayerVersionRecord;
  }

  async listVersions(layerName: string): Promise<LayerVersionRecord[]> {
    return parseRecords<LayerVersionRecord>(
      await this.#db.query('SELECT record FROM layer_versions WHERE layer_name = $1 AND NOT deleted ORDER BY version DESC', [layerName]),
    );
  }

  async list(): Promise<LayerVersionRecord[]> {
    return parseRecords<LayerVersionRecord>(
      await this.#db.query('SELECT record FROM layer_versions WHERE NOT deleted ORDER BY layer_name, version DESC'),
    );
  }

  async delete(layerName: string, version: number): Promise<boolean> {
    return this.#db.transaction(async (sql) => {
      // A layer version's policy goes with it.
      await sql.run('DELETE FROM resource_policies WHERE owner = $1 AND qualifier = $2', [layerPolicyOwner(layerName), String(version)]);
      return (await sql.run('UPDATE layer_versions SET deleted = true WHERE layer_name = $1 AND version = $2 AND NOT deleted', [layerName, version])) > 0;
    });
  }
}
