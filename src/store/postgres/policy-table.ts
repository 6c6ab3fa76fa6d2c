import type { ResourcePolicyRecord, ResourcePolicyTable } from '../types.js';
import type { PgDatabase } from './database.js';
import type { PgFunctionChanges } from './function-changes.js';

const COLUMNS = 'resource_arn AS "resourceArn", owner, qualifier, policy, revision_id AS "revisionId"';

/**
 * Resource policies in the shared store: one row per resource ARN. Writes compare the revision in
 * the statement itself, so two servers changing one policy at once cannot both win.
 */
export class PgResourcePolicyTable implements ResourcePolicyTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async list(): Promise<ResourcePolicyRecord[]> {
    return this.#db.query<ResourcePolicyRecord>(`SELECT ${COLUMNS} FROM resource_policies ORDER BY resource_arn`);
  }

  async listOwner(owner: string): Promise<ResourcePolicyRecord[]> {
    return this.#db.query<ResourcePolicyRecord>(`SELECT ${COLUMNS} FROM resource_policies WHERE owner = $1 ORDER BY resource_arn`, [owner]);
  }

  async get(resourceArn: string): Promise<ResourcePolicyRecord | undefined> {
    return (await this.#db.query<ResourcePolicyRecord>(`SELECT ${COLUMNS} FROM resource_policies WHERE resource_arn = $1`, [resourceArn]))[0];
  }

  async put(record: ResourcePolicyRecord, previous: string | undefined): Promise<boolean> {
    const { resourceArn, owner, qualifier, policy, revisionId } = record;
    return this.#changes.write(owner, async (sql) =>
      previous === undefined
        ? (await sql.run(
            `INSERT INTO resource_policies (resource_arn, owner, qualifier, policy, revision_id) VALUES ($1, $2, $3, $4, $5)
              ON CONFLICT (resource_arn) DO NOTHING`,
            [resourceArn, owner, qualifier, policy, revisionId],
          )) > 0
        : (await sql.run('UPDATE resource_policies SET policy = $1, revision_id = $2 WHERE resource_arn = $3 AND revision_id = $4', [
            policy,
            revisionId,
            resourceArn,
            previous,
          ])) > 0,
    );
  }

  async delete(resourceArn: string, owner: string, previous: string): Promise<boolean> {
    return this.#changes.write(owner, async (sql) => (await sql.run('DELETE FROM resource_policies WHERE resource_arn = $1 AND revision_id = $2', [resourceArn, previous])) > 0);
  }
}
