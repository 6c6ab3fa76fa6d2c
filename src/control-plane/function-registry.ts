import { EventEmitter } from 'node:events';
import type { CodeStore, UnpackedCode } from '../code/index.js';
import {
  InvalidParameterValueException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
  functionArn,
  newRevisionId,
  parseFunctionRef,
  KeyedLock,
  KindlingError,
  type Clock,
  type Logger,
  bareName,
  inScope,
  unscope,
  type Partition,
} from '../shared/index.js';
import { MAX_UNZIPPED_BYTES } from '../code/index.js';
import type { FunctionLayer, FunctionRecord, FunctionSnapshot, Store } from '../store/index.js';
import { FunctionCache, type CachedPart } from './function-cache.js';
import * as v from './validation.js';
import { imageConfigChanges, imageSupport, refuseImageFields, type ImageFunctions } from './image-function.js';
import { validateLoggingConfig } from './logging-config.js';
import { newFunctionName } from './new-function-name.js';

export type FunctionChange = 'created' | 'code' | 'configuration' | 'deleted';

export interface RegistryDeps {
  store: Store;
  code: CodeStore;
  partition: Partition;
  clock: Clock;
  logger: Logger;
  /** Whether an ARN names a Kindling queue (for DeadLetterConfig); handed in from `queue/`. */
  isQueueArn: (arn: string, account: string) => boolean;
  layers: LayerResolver;
  /** The sandbox drivers a function may ask for with its `kindling:sandbox` tag. */
  sandboxNames: readonly string[];
  /** PackageType Image support (image-function.ts); without it, images are refused. */
  images?: ImageFunctions;
}

/** What the function registry needs of layers: checking a `Layers` list, and their size. */
export interface LayerResolver {
  /** `account` is the function's: another account's layer versions only where their policy allows it. */
  resolve(layers: unknown, account: string): Promise<FunctionLayer[]>;
  unzippedBytes(layers: readonly FunctionLayer[]): Promise<number>;
}

const DEFAULTS = { timeout: 3, memorySize: 128, ephemeralStorage: 512, architectures: ['x86_64'] } as const;

/**
 * The function registry: the control plane's one writer of functions. It keeps every function in
 * memory (the invoke path never reads the store) and writes through to the store, answering only
 * once the store has the change. Every write about one function (its own, its versions', aliases'
 * and settings') takes that function's turn (`exclusive`), so a check and the write it guards stay
 * one step although the store's answer is awaited in between.
 *
 * Emits `change(name, kind)` after code or configuration changes, so the worker can retire the
 * environments of the old revision: made here, or by another server on the same store (seen through
 * the store's change feed, `FunctionCache`).
 */
export class FunctionRegistry extends EventEmitter<{ change: [name: string, kind: FunctionChange] }> {
  readonly #deps: RegistryDeps;
  readonly #functions = new Map<string, FunctionRecord>();
  /** Pending → Active and InProgress → Successful transitions still to come, by function name. */
  readonly #settling = new Map<string, Promise<void>>();
  readonly #lock = new KeyedLock();
  readonly #cache: FunctionCache;

  constructor(deps: RegistryDeps) {
    super();
    this.#deps = deps;
    this.#cache = new FunctionCache({
      store: deps.store,
      turn: (name, task) => this.exclusive(name, task),
      names: () => this.#functions.keys(),
      logger: deps.logger,
    });
    this.#cache.add({ apply: (snapshot) => this.#apply(snapshot) });
  }

  /** Reads every function from the store (at start, before the API listens). */
  async load(): Promise<void> {
    for (const record of await this.#deps.store.functions.list()) this.#functions.set(record.name, record);
  }

  /**
   * Runs `task` in the function's turn: after every write about it asked for earlier, before any
   * asked for later. Tasks must not ask for the same function's turn again (they would wait forever).
   */
  exclusive<T>(name: string, task: () => Promise<T> | T): Promise<T> {
    return this.#lock.run(name, task);
  }

  /** Registers a cache of something about functions, kept true to the store with the registry's own. */
  cache(part: CachedPart): void {
    this.#cache.add(part);
  }

  /** Follows the store's change feed (after every cache was loaded, before the API listens). */
  watch(): void {
    this.#cache.watch();
  }

  close(): void {
    this.#cache.close();
  }

  /** The function as stored now: created, changed or deleted here or by another server. */
  #apply(snapshot: FunctionSnapshot): void {
    const { name } = snapshot;
    const cached = this.#functions.get(name);
    const stored = snapshot.function;
    if (!stored) {
      if (!cached) return;
      this.#functions.delete(name);
      this.emit('change', name, 'deleted');
      return;
    }
    this.#functions.set(name, stored);
    if (!cached) {
      this.emit('change', name, 'created');
      return;
    }
    if (cached.codeKey !== stored.codeKey) this.emit('change', name, 'code');
    else if (settingsOf(cached) !== settingsOf(stored)) this.emit('change', name, 'configuration');
  }

  /** The record for a name or ARN; throws ResourceNotFoundException like Lambda. */
  get(ref: string, account = this.#deps.partition.accountId): FunctionRecord {
    const { name } = parseFunctionRef(ref, this.#deps.partition, undefined, undefined, account);
    return this.getByName(name);
  }

  getByName(name: string): FunctionRecord {
    const record = this.#functions.get(name);
    if (!record) throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#deps.partition, name)}`);
    return record;
  }

  /** Looks up without throwing: the invoke hot path. */
  find(name: string): FunctionRecord | undefined {
    return this.#functions.get(name);
  }

  /** Resolves once the function's state transition in progress (if any) has happened. */
  settled(name: string): Promise<void> {
    return this.#settling.get(name) ?? Promise.resolve();
  }

  /** The functions of one account (the default account's unless given), by name. */
  list(account = this.#deps.partition.accountId): FunctionRecord[] {
    const home = this.#deps.partition.accountId;
    return [...this.#functions.values()].filter((fn) => inScope(home, account, fn.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Creates a function in `account` (the caller's: a function is always created in its creator's account). */
  async create(body: Record<string, unknown>, account = this.#deps.partition.accountId): Promise<FunctionRecord> {
    const { key, name } = newFunctionName(body['FunctionName'], this.#deps.partition, account);
    // PackageType Image: Code.ImageUri, no Runtime/Handler/Layers (image-function.ts).
    const image = v.validatePackageType(body['PackageType']) === 'Image' ? imageSupport(this.#deps.images).forCreate(body) : refuseImageFields(body);
    const runtime = image ? '' : v.validateRuntime(body['Runtime'], this.#today(), 'create');
    const handler = image ? '' : v.validateHandler(body['Handler']);
    const role = v.validateRole(body['Role']);
    const timeout = v.validateTimeout(body['Timeout']) ?? DEFAULTS.timeout;
    const memorySize = v.validateMemorySize(body['MemorySize']) ?? DEFAULTS.memorySize;
    const description = v.validateDescription(body['Description']) ?? '';
    const environment = v.validateEnvironment(body['Environment']);
    const loggingConfig = validateLoggingConfig(body['LoggingConfig'], name);
    const architectures = v.validateArchitectures(body['Architectures']) ?? [...DEFAULTS.architectures];
    const ephemeralStorage = v.validateEphemeralStorage(body['EphemeralStorage']) ?? DEFAULTS.ephemeralStorage;
    const tags = v.validateTags(body['Tags']) ?? {};
    v.validateKindlingTags(tags, this.#deps.sandboxNames);
    const deadLetterTarget = v.validateDeadLetterConfig(body['DeadLetterConfig'], (arn) => this.#deps.isQueueArn(arn, account)) ?? undefined;
    const layers = await this.#deps.layers.resolve(body['Layers'], account);
    const zip = image ? undefined : v.decodeZipFile(body['Code']);
    this.#assertFree(key);

    const code: UnpackedCode & { fields?: Partial<FunctionRecord> } = image ? await image.pull(architectures[0]!) : await this.#deps.code.put(zip!);
    if (!image) await this.#checkSize(code.unzippedSize, layers); // images: the image store's own limit
    const record: FunctionRecord = {
      name: key,
      runtime,
      handler,
      role,
      description,
      timeout,
      memorySize,
      environment: environment ?? {},
      ...(environment !== undefined ? { environmentGiven: true } : {}),
      ...(loggingConfig ? { loggingConfig } : {}),
      architectures,
      ephemeralStorage,
      packageType: 'Zip',
      codeSha256: code.sha256,
      codeKey: code.key,
      codeSize: code.size,
      lastModified: this.#deps.clock.now(),
      revisionId: newRevisionId(),
      state: 'Pending',
      stateReason: 'The function is being created.',
      stateReasonCode: 'Creating',
      lastUpdateStatus: 'InProgress',
      tags,
      ...(deadLetterTarget ? { deadLetterTarget } : {}),
      ...(layers.length > 0 ? { layers } : {}),
      unzippedSize: code.unzippedSize,
      ...code.fields, // PackageType Image
    };
    await this.exclusive(record.name, async () => {
      this.#assertFree(record.name); // another create may have won while the zip was unpacked
      await this.#deps.store.functions.insert(record).catch((err: unknown) => {
        // Another server sharing the store created it first: its change has not reached this cache yet.
        if (err instanceof KindlingError && err.code === 'ERR_STORE_CONFLICT') throw new ResourceConflictException(`Function already exist: ${bareName(record.name)}`);
        throw err;
      });
      this.#functions.set(record.name, record);
    });
    this.emit('change', record.name, 'created');
    this.#settle(record.name, (current) => ({
      ...current,
      state: 'Active',
      stateReason: undefined,
      stateReasonCode: undefined,
      lastUpdateStatus: 'Successful',
      revisionId: newRevisionId(),
    }));
    this.#deps.logger.info('function created', { name: record.name });
    return record;
  }

  async updateCode(ref: string, body: Record<string, unknown>, account = this.#deps.partition.accountId): Promise<FunctionRecord> {
    const current = this.#updatable(ref, body['RevisionId'], account);
    // PackageType Image: a new ImageUri instead of a zip (image-function.ts).
    const image = current.packageType === 'Image' ? imageSupport(this.#deps.images).forCodeUpdate(body) : undefined;
    const zip = image ? undefined : v.decodeZipFile(body);
    const code: UnpackedCode & { fields?: Partial<FunctionRecord> } = image ? await image.pull(current.architectures[0]!) : await this.#deps.code.put(zip!);
    if (!image) await this.#checkSize(code.unzippedSize, current.layers ?? []);
    if (body['DryRun'] === true) return { ...current, codeSha256: code.sha256, codeSize: code.size };
    return this.exclusive(current.name, () =>
      this.#beginUpdate(this.#updatable(ref, body['RevisionId'], account), 'code', {
        unzippedSize: code.unzippedSize,
        codeSha256: code.sha256,
        codeKey: code.key,
        codeSize: code.size,
        ...code.fields, // PackageType Image
      }),
    );
  }

  async updateConfiguration(ref: string, body: Record<string, unknown>, account = this.#deps.partition.accountId): Promise<FunctionRecord> {
    return this.exclusive(this.get(ref, account).name, () => this.#updateConfiguration(ref, body, account));
  }

  async #updateConfiguration(ref: string, body: Record<string, unknown>, account: string): Promise<FunctionRecord> {
    const current = this.#updatable(ref, body['RevisionId'], account);
    // PackageType Image: ImageConfig; no Runtime/Handler/Layers (image-function.ts).
    const changes: Partial<FunctionRecord> = imageConfigChanges(this.#deps.images, current, body);
    if (body['Runtime'] !== undefined) changes.runtime = v.validateRuntime(body['Runtime'], this.#today(), 'update');
    if (body['Handler'] !== undefined) changes.handler = v.validateHandler(body['Handler']);
    if (body['Role'] !== undefined) changes.role = v.validateRole(body['Role']);
    const timeout = v.validateTimeout(body['Timeout']);
    if (timeout !== undefined) changes.timeout = timeout;
    const memorySize = v.validateMemorySize(body['MemorySize']);
    if (memorySize !== undefined) changes.memorySize = memorySize;
    const description = v.validateDescription(body['Description']);
    if (description !== undefined) changes.description = description;
    const environment = v.validateEnvironment(body['Environment']);
    if (environment !== undefined) {
      changes.environment = environment;
      changes.environmentGiven = true;
    }
    const loggingConfig = validateLoggingConfig(body['LoggingConfig'], bareName(current.name), current.loggingConfig);
    if (loggingConfig) changes.loggingConfig = loggingConfig;
    const ephemeralStorage = v.validateEphemeralStorage(body['EphemeralStorage']);
    if (ephemeralStorage !== undefined) changes.ephemeralStorage = ephemeralStorage;
    const owner = unscope(this.#deps.partition.accountId, current.name).accountId;
    const deadLetterTarget = v.validateDeadLetterConfig(body['DeadLetterConfig'], (arn) => this.#deps.isQueueArn(arn, owner));
    if (deadLetterTarget !== undefined) changes.deadLetterTarget = deadLetterTarget ?? undefined;
    if (body['Layers'] !== undefined) {
      const layers = await this.#deps.layers.resolve(body['Layers'], unscope(this.#deps.partition.accountId, current.name).accountId);
      await this.#checkSize(current.unzippedSize ?? 0, layers);
      changes.layers = layers;
    }
    return this.#beginUpdate(current, 'configuration', changes);
  }

  /** Deletes the function with all its versions and aliases (a qualified delete is FunctionVersions'). */
  async delete(name: string): Promise<void> {
    this.getByName(name);
    await this.exclusive(name, async () => {
      this.getByName(name); // deleted by another call while this one waited for its turn
      // One transaction removes the function and everything about it; every cache then reads it gone.
      await this.#deps.store.functions.delete(name);
      await this.#cache.refresh(name);
    });
    this.#deps.logger.info('function deleted', { name });
  }

  /**
   * TagResource and UntagResource (function-tags.ts): `next` makes the new tags from the current
   * ones, in the function's turn. Kindling's own tags are checked as CreateFunction checks them; a
   * change to one (the sandbox, the network) retires warm environments like a configuration change.
   */
  async replaceTags(name: string, next: (tags: Readonly<Record<string, string>>) => Record<string, string>): Promise<void> {
    await this.exclusive(name, async () => {
      const current = this.getByName(name);
      const tags = next(current.tags);
      v.validateKindlingTags(tags, this.#deps.sandboxNames);
      const record = { ...current, tags };
      await this.#deps.store.functions.replace(record);
      this.#functions.set(name, record);
      if (v.kindlingTagsOf(current.tags) !== v.kindlingTagsOf(tags)) this.emit('change', name, 'configuration');
    });
  }

  /** Records on $LATEST the number of the version just published from it. Called in the function's turn. */
  async notePublished(name: string, version: number): Promise<void> {
    const record = { ...this.getByName(name), lastPublishedVersion: version };
    await this.#deps.store.functions.replace(record);
    this.#functions.set(name, record);
  }

  /** The day (YYYY-MM-DD, UTC) against which runtime deprecation dates are read. */
  #today(): string {
    return new Date(this.#deps.clock.now()).toISOString().slice(0, 10);
  }

  /** Lambda's 250 MB unzipped limit counts the function's code and its layers together. */
  async #checkSize(codeBytes: number, layers: readonly FunctionLayer[]): Promise<void> {
    const total = codeBytes + (layers.length > 0 ? await this.#deps.layers.unzippedBytes(layers) : 0);
    if (total > MAX_UNZIPPED_BYTES) {
      throw new InvalidParameterValueException(
        `Function code combined with layers exceeds the maximum allowed size of ${MAX_UNZIPPED_BYTES} bytes. The actual size is ${total} bytes.`,
      );
    }
  }

  #assertFree(name: string): void {
    if (this.#functions.has(name)) {
      throw new ResourceConflictException(`Function already exist: ${bareName(name)}`);
    }
  }

  /** The current record, if an update may start now: revision matches and nothing is in flight. */
  #updatable(ref: string, revisionId: unknown, account: string): FunctionRecord {
    const current = this.get(ref, account);
    const expected = v.expectString(revisionId, 'revisionId');
    if (expected !== undefined && expected !== current.revisionId) {
      throw new PreconditionFailedException(
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
    if (current.state === 'Pending' || current.lastUpdateStatus === 'InProgress') {
      throw new ResourceConflictException(
        `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(this.#deps.partition, current.name)}`,
      );
    }
    return current;
  }

  async #beginUpdate(current: FunctionRecord, kind: FunctionChange, changes: Partial<FunctionRecord>): Promise<FunctionRecord> {
    const record: FunctionRecord = {
      ...current,
      ...changes,
      lastModified: this.#deps.clock.now(),
      revisionId: newRevisionId(),
      lastUpdateStatus: 'InProgress',
      // Lambda's words for every update in progress, recorded from AWS (LocalStack's
      // test_lambda_api snapshots: update_func_conf_response, update_code_response).
      lastUpdateStatusReason: 'The function is being created.',
      lastUpdateStatusReasonCode: 'Creating',
    };
    await this.#deps.store.functions.replace(record);
    this.#functions.set(record.name, record);
    this.emit('change', record.name, kind);
    this.#settle(record.name, (latest) => ({
      ...latest,
      lastUpdateStatus: 'Successful',
      lastUpdateStatusReason: undefined,
      lastUpdateStatusReasonCode: undefined,
      revisionId: newRevisionId(),
    }));
    return record;
  }

  /**
   * Lambda answers a create or update while the function is still Pending / InProgress and moves
   * it on shortly after; clients wait with GetFunction (the SDK's waiters). Kindling has already
   * unpacked the code by then, so the transition happens on the next turn of the event loop, in
   * the function's turn (after a version published with the create or update). It is a store write
   * of its own, which takes a round trip or more on PostgreSQL: the API answers once it is done
   * (`settled`), so that a caller's next request never finds the function still Pending.
   */
  #settle(name: string, next: (record: FunctionRecord) => FunctionRecord): void {
    const done = new Promise<void>((resolve) => {
      setImmediate(() => {
        void this.exclusive(name, async () => {
          const latest = this.#functions.get(name);
          if (!latest) return;
          const record = next(latest);
          await this.#deps.store.functions.replace(record);
          this.#functions.set(name, record);
        })
          .catch((err: unknown) => this.#deps.logger.error('could not record the end of a function update', { name, error: String(err) }))
          .finally(() => {
            if (this.#settling.get(name) === done) this.#settling.delete(name);
            resolve();
          });
      });
    });
    this.#settling.set(name, done);
  }
}

/** What an environment is started from: everything but the record's state and bookkeeping. */
function settingsOf(record: FunctionRecord): string {
  const { state, stateReason, stateReasonCode, lastUpdateStatus, lastUpdateStatusReason, lastUpdateStatusReasonCode, revisionId, lastModified, lastPublishedVersion, ...settings } = record;
  return JSON.stringify(settings);
}
