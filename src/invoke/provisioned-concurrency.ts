import type { Aliases, ConcurrencySettings, FunctionRegistry } from '../control-plane/index.js';
import {
  InvalidParameterValueException,
  ProvisionedConcurrencyConfigNotFoundException,
  ResourceConflictException,
  ResourceNotFoundException,
  ValidationException,
  functionArn,
  lambdaTimestamp,
  parseFunctionRef,
  type Clock,
  type Partition,
} from '../shared/index.js';
import type { FunctionRecord, ProvisionedConcurrencyRecord, Store } from '../store/index.js';
import type { Runner } from '../worker/index.js';

/**
 * Provisioned concurrency (Put / Get / Delete / ListProvisionedConcurrencyConfig(s)) on a version
 * or an alias: the worker keeps that many environments of the version initialised ahead of time.
 */
export class ProvisionedConcurrency {
  readonly #store: Store;
  readonly #registry: FunctionRegistry;
  readonly #aliases: Aliases;
  readonly #concurrency: ConcurrencySettings;
  readonly #fleet: Runner;
  readonly #partition: Partition;
  readonly #clock: Clock;
  readonly #configs = new Map<string, ProvisionedConcurrencyRecord>();

  constructor(deps: {
    store: Store;
    registry: FunctionRegistry;
    aliases: Aliases;
    concurrency: ConcurrencySettings;
    fleet: Runner;
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
    // Configs put or deleted by another server provision here too (placement comes with the fleet).
    deps.registry.cache({
      apply: ({ name, provisioned }) => {
        const stored = new Map(provisioned.map((record) => [key(record.functionName, record.qualifier), record]));
        for (const [k, record] of this.#configs) {
          if (record.functionName !== name || stored.has(k)) continue;
          this.#configs.delete(k);
          const version = this.#version(name, record.qualifier, false);
          if (version) this.#fleet.provision(version, 0);
        }
        for (const [k, record] of stored) {
          if (this.#configs.get(k)?.requested === record.requested) continue;
          this.#configs.set(k, record);
          const version = this.#version(name, record.qualifier, false);
          if (version) this.#fleet.provision(version, record.requested);
        }
      },
    });
  }

  /** Provisions what the store says (at start). */
  async start(): Promise<void> {
    for (const record of await this.#store.concurrency.listProvisioned()) {
      const version = this.#version(record.functionName, record.qualifier, false);
      if (!version) continue;
      this.#configs.set(key(record.functionName, record.qualifier), record);
      this.#fleet.provision(version, record.requested);
    }
  }

  put(ref: string, qualifier: string | null, value: unknown, account = this.#partition.accountId): Promise<Record<string, unknown>> {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    return this.#registry.exclusive(name, () => this.#put(ref, qualifier, value, account));
  }

  async #put(ref: string, qualifier: string | null, value: unknown, account: string): Promise<Record<string, unknown>> {
    const { name, qualifier: q } = this.#target(ref, qualifier, 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.', account);
    const version = this.#version(name, q, true)!;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw ValidationException.constraint(value, 'provisionedConcurrentExecutions', 'Member must have value greater than or equal to 1');
    }
    this.#checkOverlap(name, q, version.version!);
    const reserved = this.#concurrency.reserved(name);
    const others = [...this.#configs.values()].filter((r) => r.functionName === name && r.qualifier !== q).reduce((sum, r) => sum + r.requested, 0);
    if (reserved !== undefined && others + value > reserved) {
      throw new InvalidParameterValueException(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function: ${reserved}`,
      );
    }
    const record: ProvisionedConcurrencyRecord = { functionName: name, qualifier: q, requested: value, lastModified: this.#clock.now() };
    await this.#store.concurrency.putProvisioned(record);
    this.#configs.set(key(name, q), record);
    this.#fleet.provision(version, value);
    return this.#shape(record, version);
  }

  get(ref: string, qualifier: string | null, account = this.#partition.accountId): Record<string, unknown> {
    const record = this.#find(ref, qualifier, account);
    if (!record) throw new ProvisionedConcurrencyConfigNotFoundException('No Provisioned Concurrency Config found for this function');
    return this.#shape(record, this.#version(record.functionName, record.qualifier, true)!);
  }

  /** Lambda answers 204 when the version or alias has no config. */
  delete(ref: string, qualifier: string | null, account = this.#partition.accountId): Promise<void> {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    return this.#registry.exclusive(name, async () => {
      const record = this.#find(ref, qualifier, account);
      if (!record) return;
      await this.#store.concurrency.deleteProvisioned(record.functionName, record.qualifier);
      this.#configs.delete(key(record.functionName, record.qualifier));
      const version = this.#version(record.functionName, record.qualifier, false);
      if (version) this.#fleet.provision(version, 0);
    });
  }

  list(ref: string, account = this.#partition.accountId): Record<string, unknown>[] {
    const name = this.#name(ref, account);
    return [...this.#configs.values()]
      .filter((record) => record.functionName === name)
      .map((record) => ({
        FunctionArn: functionArn(this.#partition, name, record.qualifier),
        ...this.#shape(record, this.#version(name, record.qualifier, true)!),
      }));
  }

  /**
   * One config per version: Lambda refuses a second one reached through another qualifier
   * (test_lambda_provisioned_lifecycle).
   */
  #checkOverlap(name: string, qualifier: string, version: string): void {
    for (const other of this.#configs.values()) {
      if (other.functionName !== name || other.qualifier === qualifier) continue;
      const otherVersion = this.#version(name, other.qualifier, false)?.version;
      if (otherVersion !== version) continue;
      throw new ResourceConflictException(
        /^[0-9]+$/.test(qualifier)
          ? 'Version is pointed by a Provisioned Concurrency alias'
          : "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
      );
    }
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

  /** The config of an existing version or alias, or undefined when it has none. */
  #find(ref: string, qualifier: string | null, account: string): ProvisionedConcurrencyRecord | undefined {
    const { name, qualifier: q } = this.#target(ref, qualifier, 'The function resource provided must be an alias or a published version.', account);
    return this.#configs.get(key(name, q));
  }

  #name(ref: string, account: string): string {
    return this.#registry.getByName(parseFunctionRef(ref, this.#partition, undefined, undefined, account).name).name;
  }

  /**
   * A function's version or alias that exists, with Lambda's refusals: $LATEST (`latestMessage`),
   * "Cannot find alias arn" for a missing alias (even of a missing function), "Function not found"
   * for a missing version or function (test_provisioned_concurrency_exceptions).
   */
  #target(ref: string, qualifier: string | null, latestMessage: string, account: string): { name: string; qualifier: string } {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    if (qualifier === null || qualifier === '') throw ValidationException.constraint('null', 'qualifier', 'Member must not be null');
    if (qualifier === '$LATEST') {
      if (!this.#registry.find(name)) throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name)}`);
      throw new InvalidParameterValueException(latestMessage);
    }
    if (/^[0-9]+$/.test(qualifier)) {
      if (!this.#registry.find(name) || !this.#aliases.resolve(name, qualifier)) {
        throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, qualifier)}`);
      }
    } else if (!this.#registry.find(name) || !this.#aliases.find(name, qualifier)) {
      throw new ResourceNotFoundException(`Cannot find alias arn: ${functionArn(this.#partition, name, qualifier)}`);
    }
    return { name, qualifier };
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
