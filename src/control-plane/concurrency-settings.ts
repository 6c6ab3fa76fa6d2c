import {
  InvalidParameterValueException,
  KeyedLock,
  ResourceNotFoundException,
  ValidationException,
  functionArn,
  parseFunctionRef,
  inScope,
  unscope,
  type Partition,
} from '../shared/index.js';
import type { Store } from '../store/index.js';
import type { FunctionRegistry } from './function-registry.js';

export interface AccountLimits {
  readonly accountConcurrency: number;
  readonly unreservedMinimum: number;
}

/**
 * Reserved concurrency (Put / Get / DeleteFunctionConcurrency) and the account's figures for
 * GetAccountSettings. Reserved concurrency may never leave less than the minimum unreserved.
 */
export class ConcurrencySettings {
  readonly #store: Store;
  readonly #registry: FunctionRegistry;
  readonly #partition: Partition;
  readonly limits: AccountLimits;
  readonly #reserved = new Map<string, number>();
  readonly #listeners: ((name: string, reserved: number | undefined) => void)[] = [];
  /** The account's unreserved minimum is checked across functions: one put at a time, check and write. */
  readonly #account = new KeyedLock();

  constructor(deps: { store: Store; registry: FunctionRegistry; partition: Partition; limits: AccountLimits }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#partition = deps.partition;
    this.limits = deps.limits;
    deps.registry.cache({
      apply: ({ name, reserved }) => {
        if (this.#reserved.get(name) === reserved) return;
        if (reserved === undefined) this.#reserved.delete(name);
        else this.#reserved.set(name, reserved);
        this.#notify(name, reserved);
      },
    });
  }

  /** Reads every reserved setting from the store (at start, before the API listens); listeners hear of each. */
  async load(): Promise<void> {
    for (const { functionName, reserved } of await this.#store.concurrency.listReserved()) {
      this.#reserved.set(functionName, reserved);
      this.#notify(functionName, reserved);
    }
  }

  /** Called with every change (the invoke path keeps its own copy for the hot path). */
  onChange(listener: (name: string, reserved: number | undefined) => void): void {
    this.#listeners.push(listener);
    for (const [name, reserved] of this.#reserved) listener(name, reserved);
  }

  reserved(name: string): number | undefined {
    return this.#reserved.get(name);
  }

  /** Reserved concurrency of one account's functions (each account has its own limit). */
  totalReserved(account = this.#partition.accountId): number {
    let total = 0;
    for (const [name, n] of this.#reserved) if (inScope(this.#partition.accountId, account, name)) total += n;
    return total;
  }

  get(ref: string, account = this.#partition.accountId): number | undefined {
    return this.#reserved.get(this.#name(ref, undefined, account));
  }

  /** Lambda looks the function up first (naming `:$LATEST`), then checks the value. */
  put(ref: string, value: unknown, account = this.#partition.accountId): Promise<number> {
    const name = this.#name(ref, '$LATEST', account);
    return this.#registry.exclusive(name, () => this.#put(ref, value, account));
  }

  async #put(ref: string, value: unknown, account: string): Promise<number> {
    const name = this.#name(ref, '$LATEST', account);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw ValidationException.constraint(value, 'reservedConcurrentExecutions', 'Member must have value greater than or equal to 0');
    }
    return this.#account.run('reserved', async () => {
      // The function's own account's limit (a cross-account ARN names another's).
      const others = this.totalReserved(unscope(this.#partition.accountId, name).accountId) - (this.#reserved.get(name) ?? 0);
      if (this.limits.accountConcurrency - others - value < this.limits.unreservedMinimum) {
        throw new InvalidParameterValueException(
          `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${this.limits.unreservedMinimum}].`,
        );
      }
      await this.#store.concurrency.putReserved(name, value);
      this.#reserved.set(name, value);
      this.#notify(name, value);
      return value;
    });
  }

  delete(ref: string, account = this.#partition.accountId): Promise<void> {
    return this.#registry.exclusive(this.#name(ref, undefined, account), async () => {
      const name = this.#name(ref, undefined, account);
      await this.#store.concurrency.deleteReserved(name);
      this.#reserved.delete(name);
      this.#notify(name, undefined);
    });
  }

  /** Reserved concurrency is the function's: a version or alias is refused (test_function_concurrency_exceptions). */
  #name(ref: string, notFoundQualifier: string | undefined, account: string): string {
    const { name, qualifier } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    if (qualifier !== undefined) {
      throw new InvalidParameterValueException(
        'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
      );
    }
    const record = this.#registry.find(name);
    if (!record) throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, notFoundQualifier)}`);
    return record.name;
  }

  #notify(name: string, reserved: number | undefined): void {
    for (const listener of this.#listeners) listener(name, reserved);
  }
}
