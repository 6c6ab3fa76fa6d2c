import type Database from 'better-sqlite3';
import type { RolePolicyRecord, RolePolicyTable } from '../role-types.js';

const COLUMNS = 'account_id AS accountId, role_name AS roleName, policy_name AS policyName, document, updated_at AS updatedAt';

/** Role policies in the embedded store. */
export class SqliteRolePolicyTable implements RolePolicyTable {
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #listAccount: Database.Statement;
  readonly #listRole: Database.Statement;

  constructor(db: Database.Database) {
    this.#put = db.prepare(
      `INSERT INTO role_policies (account_id, role_name, policy_name, document, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (account_id, role_name, policy_name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
    );
    this.#delete = db.prepare('DELETE FROM role_policies WHERE account_id = ? AND role_name = ? AND policy_name = ?');
    this.#listAccount = db.prepare(`SELECT ${COLUMNS} FROM role_policies WHERE account_id = ? ORDER BY role_name, policy_name`);
    this.#listRole = db.prepare(`SELECT ${COLUMNS} FROM role_policies WHERE account_id = ? AND role_name = ? ORDER BY policy_name`);
  }

  async put(record: RolePolicyRecord): Promise<void> {
    this.#put.run(record.accountId, record.roleName, record.policyName, record.document, record.updatedAt);
  }

  async delete(accountId: string, roleName: string, policyName: string): Promise<boolean> {
    return this.#delete.run(accountId, roleName, policyName).changes > 0;
  }

  async list(accountId: string, roleName?: string): Promise<RolePolicyRecord[]> {
    const rows = roleName === undefined ? this.#listAccount.all(accountId) : this.#listRole.all(accountId, roleName);
    return rows as RolePolicyRecord[];
  }
}
