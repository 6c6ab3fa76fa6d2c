import { EventEmitter } from 'node:events';
import {
  InvalidParameterValueException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
  functionArn,
  newRevisionId,
  parseFunctionRef,
  inScope,
  type Clock,
  type Partition,
} from '../shared/index.js';
import type { FunctionRecord, Store } from '../store/index.js';
import type { FunctionRegistry } from './function-registry.js';
import { validateDescription } from './validation.js';

const VERSION = /^[0-9]+$/;

/**
 * Published versions: immutable snapshots of a function's code and configuration (PublishVersion,
 * ListVersionsByFunction, qualified Get / Delete). Numbers are never reused, even after a delete.
 * Emits `deleted(name, version)` so the worker can retire that version's environments.
 */
export class FunctionVersions extends EventEmitter<{ deleted: [name: string, version: string] }> {
  readonly #store: Store;
  readonly #registry: FunctionRegistry;
  readonly #partition: Partition;
  readonly #clock: Clock;
  readonly #versions = new Map<string, Map<string, FunctionRecord>>();
  /** Who may stop a version from being deleted (aliases pointing at it). */
  #referencedBy: (name: string, version: string) => string[] = () => [];

  constructor(deps: { store: Store; registry: FunctionRegistry; partition: Partition; clock: Clock }) {
    super();
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#partition = deps.partition;
    this.#clock = deps.clock;
    deps.registry.cache({
      apply: ({ name, versions }) => {
        const cached = this.#versions.get(name) ?? new Map<string, FunctionRecord>();
        this.#versions.delete(name);
        for (const record of versions) this.#of(name).set(record.version!, record);
        for (const version of cached.keys()) if (!this.#versions.get(name)?.has(version)) this.emit('deleted', name, version);
      },
    });
  }

  /** Reads every published version from the store (at start, before the API listens). */
  async load(): Promise<void> {
    for (const record of await this.#store.versions.list()) this.#of(record.name).set(record.version!, record);
  }

  /** Lets aliases veto deleting a version they point at. */
  setReferences(referencedBy: (name: string, version: string) => string[]): void {
    this.#referencedBy = referencedBy;
  }

  /** A published version, or undefined. The invoke hot path: two map lookups. */
  find(name: string, version: string): FunctionRecord | undefined {
    return this.#versions.get(name)?.get(version);
  }

  get(name: string, version: string): FunctionRecord {
    const record = this.find(name, version);
    if (!record) throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, version)}`);
    return record;
  }

  /** Bytes of the account's published versions' code (GetAccountSettings' TotalCodeSize counts each). */
  totalCodeSize(account = this.#partition.accountId): number {
    let total = 0;
    for (const [name, versions] of this.#versions) {
      if (inScope(this.#partition.accountId, account, name)) for (const record of versions.values()) total += record.codeSize;
    }
    return total;
  }

  /** `$LATEST` and every version, oldest first. */
  list(ref: string, account = this.#partition.accountId): FunctionRecord[] {
    return this.listByName(this.#registry.get(ref, account).name);
  }

  /** `$LATEST` and every version of the function keyed `name`, oldest first. */
  listByName(name: string): FunctionRecord[] {
    const latest = this.#registry.getByName(name);
    const versions = [...(this.#versions.get(name)?.values() ?? [])].sort((a, b) => Number(a.version) - Number(b.version));
    return [latest, ...versions];
  }

  /**
   * Snapshots $LATEST. When nothing changed since the last version, Lambda publishes nothing and
   * answers with that version.
   */
  async publish(ref: string, body: Record<string, unknown>, account = this.#partition.accountId): Promise<FunctionRecord> {
    const { name } = this.#registry.get(ref, account);
    return this.#registry.exclusive(name, () => this.#publish(ref, body, account));
  }

  #publish(ref: string, body: Record<string, unknown>, account: string): Promise<FunctionRecord> {
    const latest = this.#registry.get(ref, account);
    if (latest.state === 'Pending' || latest.lastUpdateStatus === 'InProgress') {
      throw new ResourceConflictException(
        `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(this.#partition, latest.name)}`,
      );
    }
    const codeSha256 = body['CodeSha256'];
    if (typeof codeSha256 === 'string' && codeSha256 !== latest.codeSha256) {
      throw new InvalidParameterValueException(
        `CodeSHA256 (${codeSha256}) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    const revisionId = body['RevisionId'];
    if (typeof revisionId === 'string' && revisionId !== latest.revisionId) {
      throw new PreconditionFailedException(
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
    return this.#snapshot(latest, validateDescription(body['Description']));
  }

  /**
   * CreateFunction and UpdateFunctionCode with `Publish: true`: Lambda publishes the version in the
   * same call, while $LATEST is still Pending / InProgress.
   */
  async publishWithUpdate(name: string): Promise<FunctionRecord> {
    this.#registry.getByName(name);
    return this.#registry.exclusive(name, () => this.#snapshot(this.#registry.getByName(name), undefined));
  }

  /** In the function's turn: the number comes from $LATEST, which no other write changes meanwhile. */
  async #snapshot(latest: FunctionRecord, description: string | undefined): Promise<FunctionRecord> {
    const versions = this.#of(latest.name);
    const newest = [...versions.values()].sort((a, b) => Number(b.version) - Number(a.version))[0];
    if (newest && fingerprint(newest) === fingerprint(latest)) return newest;

    const number = (latest.lastPublishedVersion ?? 0) + 1;
    const record: FunctionRecord = {
      ...latest,
      version: String(number),
      description: description ?? latest.description,
      lastModified: this.#clock.now(),
      revisionId: newRevisionId(),
      state: 'Active',
      stateReason: undefined,
      stateReasonCode: undefined,
      lastUpdateStatus: 'Successful',
      lastUpdateStatusReason: undefined,
      lastUpdateStatusReasonCode: undefined,
    };
    delete record.lastPublishedVersion;
    await this.#store.versions.insert(record);
    versions.set(record.version!, record);
    await this.#registry.notePublished(latest.name, number);
    return record;
  }

  /** DeleteFunction with a version qualifier (the function itself must exist). */
  async delete(name: string, version: string): Promise<void> {
    if (version === '$LATEST') {
      throw new InvalidParameterValueException('$LATEST version cannot be deleted without deleting the function.');
    }
    if (!VERSION.test(version)) {
      throw new InvalidParameterValueException('Deletion of aliases is not supported');
    }
    this.#registry.getByName(name);
    await this.#registry.exclusive(name, async () => {
      this.#registry.getByName(name);
      // Lambda answers 204 for a version that does not exist (test_lambda_api snapshots).
      if (!this.find(name, version)) return;
      const aliases = this.#referencedBy(name, version);
      if (aliases.length > 0) {
        throw new ResourceConflictException(`Unable to delete version because the following aliases reference it: [${aliases.join(', ')}]`);
      }
      await this.#store.versions.delete(name, version);
      this.#versions.get(name)?.delete(version);
      this.emit('deleted', name, version);
    });
  }

  /** Parses `ref` and an optional Qualifier parameter into a name and a qualifier. */
  target(ref: string, qualifier: string | null, account = this.#partition.accountId): { name: string; qualifier?: string } {
    const parsed = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    if (qualifier !== null && parsed.qualifier !== undefined && qualifier !== parsed.qualifier) {
      throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
    }
    const q = qualifier ?? parsed.qualifier;
    return q === undefined ? { name: parsed.name } : { name: parsed.name, qualifier: q };
  }

  #of(name: string): Map<string, FunctionRecord> {
    let versions = this.#versions.get(name);
    if (!versions) {
      versions = new Map();
      this.#versions.set(name, versions);
    }
    return versions;
  }
}

/** What makes two snapshots the same version: code and configuration, not ids or timestamps. */
function fingerprint(record: FunctionRecord): string {
  const { codeSha256, runtime, handler, role, timeout, memorySize, environment, architectures, ephemeralStorage, deadLetterTarget, layers, imageConfig, loggingConfig } =
    record;
  return JSON.stringify({ codeSha256, runtime, handler, role, timeout, memorySize, environment, architectures, ephemeralStorage, deadLetterTarget, layers, imageConfig, loggingConfig });
}
