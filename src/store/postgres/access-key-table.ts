import { KindlingError } from '../../shared/index.js';
import type { AccessKeyRecord, AccessKeyTable } from '../types.js';
import type { PgDatabase } from './database.js';

const COLUMNS = `access_key_id AS "accessKeyId", account_id AS "accountId", user_name AS "userName", sealed_secret AS "sealedSecret",
  policies, admin, created_at AS "createdAt"`;

type Row = Omit<AccessKeyRecord, 'createdAt'> & { createdAt: string | number };

/** The long-term access keys, shared by every node of a fleet. */
export class PgAccessKeyTable implements AccessKeyTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async insert(record: AccessKeyRecord): Promise<void> {
    try {
      await this.#db.run(
        `INSERT INTO access_keys (access_key_id, account_id, user_name, sealed_secret, policies, admin, created_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [record.accessKeyId, record.accountId, record.userName, record.sealedSecret, record.policies, record.admin, record.createdAt],
      );
    } catch (err) {
      if (err instanceof KindlingError && err.code === 'ERR_STORE_CONFLICT') {
        throw new KindlingError('ERR_STORE_CONFLICT', `An access key ${record.accessKeyId} exists already`, { cause: err });
      }
      throw err;
    }
  }

  async get(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const [row] = await this.#db.query<Row>(`SELECT ${COLUMNS} FROM access_keys WHERE access_key_id = $1`, [accessKeyId]);
    return row && record(row);
  }

  async list(accountId?: string): Promise<AccessKeyRecord[]> {
    const rows =
      accountId === undefined
        ? await this.#db.query<Row>(`SELECT ${COLUMNS} FROM access_keys ORDER BY created_at, access_key_id`)
        : await this.#db.query<Row>(`SELECT ${COLUMNS} FROM access_keys WHERE account_id = $1 ORDER BY created_at, access_key_id`, [accountId]);
    return rows.map(record);
  }

  async remove(accessKeyId: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM access_keys WHERE access_key_id = $1', [accessKeyId])) > 0;
  }
}

/** BIGINT comes back as a string from pg. */
function record(row: Row): AccessKeyRecord {
  return { ...row, createdAt: Number(row.createdAt) };
}
