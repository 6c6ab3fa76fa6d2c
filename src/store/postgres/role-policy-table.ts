import type { RolePolicyRecord, RolePolicyTable } from '../role-types.js';
import type { PgDatabase } from './database.js';

const COLUMNS = 'account_id AS "accountId", role_name AS "roleName", policy_name AS "policyName", document, updated_at AS "updatedAt"';

/** Role policies in the shared store. */
export class PgRolePolicyTable implements RolePolicyTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async put(record: RolePolicyRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO role_policies (account_id, role_name, policy_name, document, updated_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (account_id, role_name, policy_name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
      [record.accountId, record.roleName, record.policyName, record.document, record.updatedAt],
    );
  }

  async delete(accountId: string, roleName: string, policyName: string): Promise<boolean> {
    const rows = await this.#db.query('DELETE FROM role_policies WHERE account_id = $1 AND role_name = $2 AND policy_name = $3 RETURNING 1', [accountId, roleName, policyName]);
    return rows.length > 0;
  }

  async list(accountId: string, roleName?: string): Promise<RolePolicyRecord[]> {
    const rows =
      roleName === undefined
        ? await this.#db.query<RolePolicyRecord>(`SELECT ${COLUMNS} FROM role_policies WHERE account_id = $1 ORDER BY role_name, policy_name`, [accountId])
        : await this.#db.query<RolePolicyRecord>(`SELECT ${COLUMNS} FROM role_policies WHERE account_id = $1 AND role_name = $2 ORDER BY policy_name`, [accountId, roleName]);
    // BIGINT arrives as a string.
    return rows.map((row) => ({ ...row, updatedAt: Number(row.updatedAt) }));
  }
}
