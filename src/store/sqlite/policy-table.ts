import type Database from 'better-sqlite3';
import type { ResourcePolicyRecord, ResourcePolicyTable } from '../types.js';
import type { SqliteFunctionChanges } from './function-changes.js';

const COLUMNS = 'resource_arn AS resourceArn, owner, qualifier, policy, revision_id AS revisionId';

/** Resource policies in the embedded store: one row per resource ARN. */
export class SqliteResourcePolicyTable implements ResourcePolicyTable {
  readonly #changes: SqliteFunctionChanges;
  readonly #list: Database.Statement;
  readonly #listOwner: Database.Statement;
  readonly #get: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #update: Database.Statement;
  readonly #delete: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#changes = changes;
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM resource_policies ORDER BY resource_arn`);
    this.#listOwner = db.prepare(`SELECT ${COLUMNS} FROM resource_policies WHERE owner = ? ORDER BY resource_arn`);
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM resource_policies WHERE resource_arn = ?`);
    this.#insert = db.prepare(
      'INSERT INTO resource_policies (resource_arn, owner, qualifier, policy, revision_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (resource_arn) DO NOTHING',
    );
    this.#update = db.prepare('UPDATE resource_policies SET policy = ?, revision_id = ? WHERE resource_arn = ? AND revision_id = ?');
    this.#delete = db.prepare('DELETE FROM resource_policies WHERE resource_arn = ? AND revision_id = ?');
  }

  async list(): Promise<ResourcePolicyRecord[]> {
    return this.#list.all() as ResourcePolicyRecord[];
  }

  async listOwner(owner: string): Promise<ResourcePolicyRecord[]> {
    return this.#listOwner.all(owner) as ResourcePolicyRecord[];
  }

  async get(resourceArn: string): Promise<ResourcePolicyRecord | undefined> {
    return this.#get.get(resourceArn) as ResourcePolicyRecord | undefined;
  }

  async put(record: ResourcePolicyRecord, previous: string | undefined): Promise<boolean> {
    const { resourceArn, owner, qualifier, policy, revisionId } = record;
    return this.#changes.write(owner, () =>
      previous === undefined
        ? this.#insert.run(resourceArn, owner, qualifier, policy, revisionId).changes > 0
        : this.#update.run(policy, revisionId, resourceArn, previous).changes > 0,
    );
  }

  async delete(resourceArn: string, owner: string, previous: string): Promise<boolean> {
    return this.#changes.write(owner, () => this.#delete.run(resourceArn, previous).changes > 0);
  }
}
