import type { Aliases, ConcurrencySettings, FunctionRegistry } from '../control-plane/index.js';
import {
  InvalidParameterValueException,
  ProvisionedConcurrencyConfigNotFoundException,
  ValidationException,
  functionArn,
  lambdaTimestamp,
  parseFunctionRef,
  type Clock,
  type Partition,
} from '../shared/index.js';
import type { FunctionRecord, ProvisionedConcurrencyRecord, Store } from '../store/index.js';
import type { WorkerFleet } from '../worker/index.js';

/**
 * Provisioned concurrency (Put / Get / Delete / ListProvisionedConcurrencyConfig(s)) on a version
 * or an alias: the worker keeps that many environments of the version initialised ahead of time.
 */
export class ProvisionedConcurrency {
  readonly #store: Store;
  readonly #registry: FunctionRegistry;
  readonly #aliases: Aliases;
  readonly #concurrency: ConcurrencySettings;
  readonly #fleet: WorkerFleet;
  readonly #partition: Partition;
  readonly #clock: Clock;
  readonly #configs = new Map<string, ProvisionedConcurrencyRecord>();

  constructor(deps: {
    store: Store;
    registry: FunctionRegistry;
    aliases: Aliases;
    concurrency: ConcurrencySettings;
    fleet: WorkerFleet;
    partition: Partition;
    clock: Clock;
  }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#aliases = deps.aliases;
    this.#concurrency = deps.concurrency;
    this.#fleet = deps.fleet;
    this.#partition = deps.partition;
    this.#clock = deps.clock;
    deps.registry.on('change', (name, kind) => {
      if (kind !== 'deleted') return;
      for (const [key, record] of this.#configs) if (record.functionName === name) this.#configs.delete(key);
      deps.store.concurrency.deleteProvisioned(name);
    });
  }

  /** Provisions what the store says (at start). */
  start(): void {
    for (const record of this.#store.concurrency.listProvisioned()) {
      const version = this.#version(record.functionName, record.qualifier, false);
      if (!version) continue;
      this.#configs.set(key(record.functionName, record.qualifier), record);
      this.#fleet.provision(version, record.requested);
    }
  }

  put(ref: string, qualifier: string | null, value: unknown): Record<string, unknown> {
    const name = this.#name(ref);
    const q = this.#qualifier(qualifier);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw ValidationException.constraint(value, 'provisionedConcurrentExecutions', 'Member must have value greater than or equal to 1');
    }
    const version = this.#version(name, q, true)!;
    const reserved = this.#concurrency.reserved(name);
    const others = [...this.#configs.values()].filter((r) => r.functionName === name && r.qualifier !== q).reduce((sum, r) => sum + r.requested, 0);
    if (reserved !== undefined && others + value > reserved) {
      throw new InvalidParameterValueException(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function: ${reserved}`,
      );
    }
    const record: ProvisionedConcurrencyRecord = { functionName: name, qualifier: q, requested: value, lastModified: this.#clock.now() };
    this.#store.concurrency.putProvisioned(record);
    this.#configs.set(key(name, q), record);
    this.#fleet.provision(version, value);
    return this.#shape(record, version);
  }

  get(ref: string, qualifier: string | null): Record<string, unknown> {
    const record = this.#find(ref, qualifier);
    return this.#shape(record, this.#version(record.functionName, record.qualifier, true)!);
  }

  delete(ref: string, qualifier: string | null): void {
    const record = this.#find(ref, qualifier);
    this.#store.concurrency.deleteProvisioned(record.functionName, record.qualifier);
    this.#configs.delete(key(record.functionName, record.qualifier));
    const version = this.#version(record.functionName, record.qualifier, false);
    if (version) this.#fleet.provision(version, 0);
  }

  list(ref: string): Record<string, unknown>[] {
    const name = this.#name(ref);
    return [...this.#configs.values()]
      .filter((record) => record.functionName === name)
      .map((record) => ({
        FunctionArn: functionArn(this.#partition, name, record.qualifier),
        ...this.#shape(record, this.#version(name, record.qualifier, true)!),
      }));
  }

  #shape(record: ProvisionedConcurrencyRecord, version: FunctionRecord): Record<string, unknown> {
    const ready = Math.min(this.#fleet.provisionedReady(version), record.requested);
    return {
      RequestedProvisionedConcurrentExecutions: record.requested,
      AvailableProvisionedConcurrentExecutions: ready,
      AllocatedProvisionedConcurrentExecutions: ready,
      Status: ready >= record.requested ? 'READY' : 'IN_PROGRESS',
      LastModified: lambdaTimestamp(record.lastModified),
    };
  }

  #find(ref: string, qualifier: string | null): ProvisionedConcurrencyRecord {
    const name = this.#name(ref);
    const q = this.#qualifier(qualifier);
    const record = this.#configs.get(key(name, q));
    if (!record) {
      throw new ProvisionedConcurrencyConfigNotFoundException(`No Provisioned Concurrency Config found for this function: ${functionArn(this.#partition, name, q)}`);
    }
    return record;
  }

  #name(ref: string): string {
    return this.#registry.getByName(parseFunctionRef(ref, this.#partition).name).name;
  }

  #qualifier(qualifier: string | null): string {
    if (qualifier === null || qualifier === '') throw ValidationException.constraint('null', 'qualifier', 'Member must not be null');
    if (qualifier === '$LATEST') {
      throw new InvalidParameterValueException('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    }
    return qualifier;
  }

  /** The version a qualifier names (an alias: the version it points at). */
  #version(name: string, qualifier: string, required: boolean): FunctionRecord | undefined {
    try {
      const version = this.#aliases.lookup(name, qualifier);
      if (version.version === undefined || version.version === '$LATEST') {
        throw new InvalidParameterValueException('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
      }
      return version;
    } catch (err) {
      if (required) throw err;
      return undefined;
    }
  }
}

function key(name: string, qualifier: string): string {
  return `${name}:${qualifier}`;
}
