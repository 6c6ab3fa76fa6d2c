import type Database from 'better-sqlite3';
import { KindlingError } from '../../shared/index.js';
import type { AccessKeyRecord, AccessKeyTable } from '../types.js';

const COLUMNS = `access_key_id AS accessKeyId, account_id AS accountId, user_name AS userName, sealed_secret AS sealedSecret,
  policies, admin, created_at AS createdAt`;

type Row = Omit<AccessKeyRecord, 'admin'> & { admin: number };

/** The long-term access keys, in the embedded store. */
export class SqliteAccessKeyTable implements AccessKeyTable {
  readonly #insert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #listAll: Database.Statement;
  readonly #listAccount: Database.Statement;
  readonly #remove: Database.Statement;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO access_keys (access_key_id, account_id, user_name, sealed_secret, policies, admin, created_at)
        VALUES (@accessKeyId, @accountId, @userName, @sealedSecret, @policies, @admin, @createdAt)`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM access_keys WHERE access_key_id = ?`);
    this.#listAll = db.prepare(`SELECT ${COLUMNS} FROM access_keys ORDER BY created_at, access_key_id`);
    this.#listAccount = db.prepare(`SELECT ${COLUMNS} FROM access_keys WHERE account_id = ? ORDER BY created_at, access_key_id`);
    this.#remove = db.prepare('DELETE FROM access_keys WHERE access_key_id = ?');
  }

  async insert(record: AccessKeyRecord): Promise<void> {
    try {
      this.#insert.run({ ...record, admin: record.admin ? 1 : 0 });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new KindlingError('ERR_STORE_CONFLICT', `An access key ${record.accessKeyId} exists already`, { cause: err });
      }
      throw err;
    }
  }

  async get(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const row = this.#get.get(accessKeyId) as Row | undefined;
    return row && record(row);
  }

  async list(accountId?: string): Promise<AccessKeyRecord[]> {
    const rows = (accountId === undefined ? this.#listAll.all() : this.#listAccount.all(accountId)) as Row[];
    return rows.map(record);
  }

  async remove(accessKeyId: string): Promise<boolean> {
    return this.#remove.run(accessKeyId).changes > 0;
  }
}

function record(row: Row): AccessKeyRecord {
  return { ...row, admin: row.admin === 1 };
}
