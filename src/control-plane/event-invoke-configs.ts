import {
  InvalidParameterValueException,
  ResourceNotFoundException,
  ValidationException,
  functionArn,
  parseFunctionRef,
  besideKey,
  unscope,
  type Clock,
  type Partition,
} from '../shared/index.js';
import type { EventInvokeConfigRecord, Store } from '../store/index.js';
import type { FunctionRegistry } from './function-registry.js';
import { expectInteger } from './validation.js';

const RETRIES = { min: 0, max: 2 } as const;
const EVENT_AGE = { min: 60, max: 21_600 } as const;
/** Lambda's Destination pattern, as AWS quotes it (test_lambda_eventinvokeconfig_exceptions). */
const DESTINATION = /^$|^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/;
const DESTINATION_PATTERN = '^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';
const FUNCTION_DESTINATION = /^arn:aws[a-zA-Z-]*:lambda:[^:]+:\d{12}:function:([a-zA-Z0-9-_]+)(?::[a-zA-Z0-9-_$]+)?$/;
/** Lambda's words for a missing function on Put / Update / List (test_lambda_eventinvokeconfig_exceptions). */
const NO_FUNCTION = "The function doesn't exist.";

/**
 * Which destination ARNs Kindling can deliver to; handed in (from `queue/`) by the composition root.
 */
/** Whether Kindling delivers to `arn` from the function keyed `functionName` (a target in its own account). */
export type DestinationCheck = (arn: string, functionName: string) => boolean;

/**
 * Event invoke configs (Put / Update / Get / Delete / List FunctionEventInvokeConfig): retries,
 * maximum event age and destinations per function and qualifier, kept in memory and written through.
 */
export class EventInvokeConfigs {
  readonly #store: Store;
  readonly #registry: FunctionRegistry;
  readonly #partition: Partition;
  readonly #clock: Clock;
  readonly #deliverable: DestinationCheck;
  readonly #configs = new Map<string, EventInvokeConfigRecord>();

  readonly #qualifierExists: (name: string, qualifier: string) => void;

  constructor(deps: {
    store: Store;
    registry: FunctionRegistry;
    partition: Partition;
    clock: Clock;
    deliverable: DestinationCheck;
    /** Throws ResourceNotFoundException unless the version or alias exists. */
    qualifierExists: (name: string, qualifier: string) => void;
  }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#partition = deps.partition;
    this.#clock = deps.clock;
    this.#deliverable = deps.deliverable;
    this.#qualifierExists = deps.qualifierExists;
    deps.registry.cache({
      apply: ({ name, eventConfigs }) => {
        for (const [k, record] of this.#configs) if (record.functionName === name) this.#configs.delete(k);
        for (const record of eventConfigs) this.#configs.set(key(record.functionName, record.qualifier), record);
      },
    });
  }

  /** Reads every config from the store (at start, before the API listens). */
  async load(): Promise<void> {
    for (const record of await this.#store.eventConfigs.list()) this.#configs.set(key(record.functionName, record.qualifier), record);
  }

  /** The config in force for an event, if one was put. The invoke hot path: a map lookup. */
  find(functionName: string, qualifier: string): EventInvokeConfigRecord | undefined {
    return this.#configs.get(key(functionName, qualifier));
  }

  /**
   * PutFunctionEventInvokeConfig replaces the config. Lambda checks that something is set before
   * it looks the function up, then the destinations.
   */
  put(ref: string, qualifierParam: string | null, body: Record<string, unknown>, account = this.#partition.accountId): Promise<EventInvokeConfigRecord> {
    if (['MaximumRetryAttempts', 'MaximumEventAgeInSeconds', 'DestinationConfig'].every((member) => body[member] == null)) {
      throw new InvalidParameterValueException('You must specify at least one of error handling or destination setting.');
    }
    return this.#registry.exclusive(this.#qualified(ref, qualifierParam, account).name, () => {
      const { name, qualifier } = this.#target(ref, qualifierParam, account);
      const settings = this.#validate(body, name);
      return this.#save({ functionName: name, qualifier, lastModified: this.#clock.now(), ...settings });
    });
  }

  /** UpdateFunctionEventInvokeConfig changes what it names of an existing config. */
  update(ref: string, qualifierParam: string | null, body: Record<string, unknown>, account = this.#partition.accountId): Promise<EventInvokeConfigRecord> {
    return this.#registry.exclusive(this.#qualified(ref, qualifierParam, account).name, () => this.#update(ref, qualifierParam, body, account));
  }

  #update(ref: string, qualifierParam: string | null, body: Record<string, unknown>, account: string): Promise<EventInvokeConfigRecord> {
    const { name, qualifier } = this.#target(ref, qualifierParam, account);
    const current = this.find(name, qualifier);
    if (!current) throw this.#noConfig(name, qualifier);
    const changes = this.#validate(body, name);
    const merged: EventInvokeConfigRecord = { ...current, ...changes, lastModified: this.#clock.now() };
    // An update that names DestinationConfig but not one of its sides leaves that side as it was.
    if (changes.onSuccess === undefined && current.onSuccess !== undefined) merged.onSuccess = current.onSuccess;
    if (changes.onFailure === undefined && current.onFailure !== undefined) merged.onFailure = current.onFailure;
    return this.#save(merged);
  }

  /** Get and Delete answer the same not-found for a missing function, qualifier or config. */
  get(ref: string, qualifierParam: string | null, account = this.#partition.accountId): EventInvokeConfigRecord {
    const { name, qualifier } = this.#qualified(ref, qualifierParam, account);
    const record = this.find(name, qualifier);
    if (!record) throw this.#noConfig(name, qualifier);
    return record;
  }

  delete(ref: string, qualifierParam: string | null, account = this.#partition.accountId): Promise<void> {
    return this.#registry.exclusive(this.#qualified(ref, qualifierParam, account).name, async () => {
      const record = this.get(ref, qualifierParam, account);
      await this.#store.eventConfigs.delete(record.functionName, record.qualifier);
      this.#configs.delete(key(record.functionName, record.qualifier));
    });
  }

  list(ref: string, account = this.#partition.accountId): EventInvokeConfigRecord[] {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    if (!this.#registry.find(name)) throw new ResourceNotFoundException(NO_FUNCTION);
    return [...this.#configs.values()].filter((record) => record.functionName === name);
  }

  /** The FunctionEventInvokeConfig shape of the AWS SDK model; AWS always sends both destination sides. */
  toShape(record: EventInvokeConfigRecord): Record<string, unknown> {
    return {
      // Lambda reports LastModified here as epoch seconds.
      LastModified: record.lastModified / 1000,
      FunctionArn: functionArn(this.#partition, record.functionName, record.qualifier),
      ...(record.maximumRetryAttempts === undefined ? {} : { MaximumRetryAttempts: record.maximumRetryAttempts }),
      ...(record.maximumEventAgeInSeconds === undefined ? {} : { MaximumEventAgeInSeconds: record.maximumEventAgeInSeconds }),
      DestinationConfig: {
        OnSuccess: record.onSuccess === undefined ? {} : { Destination: record.onSuccess },
        OnFailure: record.onFailure === undefined ? {} : { Destination: record.onFailure },
      },
    };
  }

  /** In the function's turn: the checks made before it still hold. */
  async #save(record: EventInvokeConfigRecord): Promise<EventInvokeConfigRecord> {
    await this.#store.eventConfigs.put(record);
    this.#configs.set(key(record.functionName, record.qualifier), record);
    return record;
  }

  #noConfig(name: string, qualifier: string): ResourceNotFoundException {
    return new ResourceNotFoundException(`The function ${functionArn(this.#partition, name, qualifier)} doesn't have an EventInvokeConfig`);
  }

  /** Name and qualifier (the Qualifier parameter must agree with one in the name). */
  #qualified(ref: string, qualifierParam: string | null, account: string): { name: string; qualifier: string } {
    const parsed = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    if (qualifierParam !== null && parsed.qualifier !== undefined && qualifierParam !== parsed.qualifier) {
      throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
    }
    return { name: parsed.name, qualifier: qualifierParam ?? parsed.qualifier ?? '$LATEST' };
  }

  /** A function and qualifier that exist, for Put and Update. */
  #target(ref: string, qualifierParam: string | null, account: string): { name: string; qualifier: string } {
    const target = this.#qualified(ref, qualifierParam, account);
    if (!this.#registry.find(target.name)) throw new ResourceNotFoundException(NO_FUNCTION);
    try {
      this.#qualifierExists(target.name, target.qualifier);
    } catch (err) {
      if (err instanceof ResourceNotFoundException) throw new ResourceNotFoundException(NO_FUNCTION, { cause: err });
      throw err;
    }
    return target;
  }

  #validate(body: Record<string, unknown>, functionName: string): Partial<EventInvokeConfigRecord> {
    const out: Partial<EventInvokeConfigRecord> = {};
    const retries = expectInteger(body['MaximumRetryAttempts'], 'maximumRetryAttempts', RETRIES.min, RETRIES.max);
    if (retries !== undefined) out.maximumRetryAttempts = retries;
    const age = expectInteger(body['MaximumEventAgeInSeconds'], 'maximumEventAgeInSeconds', EVENT_AGE.min, EVENT_AGE.max);
    if (age !== undefined) out.maximumEventAgeInSeconds = age;
    const config = body['DestinationConfig'];
    if (config !== undefined && config !== null) {
      if (typeof config !== 'object') throw ValidationException.constraint(config, 'destinationConfig', 'Member must be a structure');
      const onSuccess = this.#destination((config as Record<string, unknown>)['OnSuccess'], 'destinationConfig.onSuccess.destination', functionName);
      const onFailure = this.#destination((config as Record<string, unknown>)['OnFailure'], 'destinationConfig.onFailure.destination', functionName);
      if (onSuccess !== undefined) out.onSuccess = onSuccess;
      if (onFailure !== undefined) out.onFailure = onFailure;
    }
    return out;
  }

  #destination(value: unknown, member: string, functionName: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    const arn = (value as Record<string, unknown>)['Destination'];
    if (arn === undefined || arn === null || arn === '') return undefined;
    if (typeof arn !== 'string' || !DESTINATION.test(arn)) {
      throw ValidationException.constraint(arn, member, `Member must satisfy regular expression pattern: ${DESTINATION_PATTERN}`);
    }
    const target = FUNCTION_DESTINATION.exec(arn);
    if (target) {
      const targetKey = besideKey(functionName, target[1]!); // checked below to be in the function's account
      if (targetKey === functionName) throw new InvalidParameterValueException("You can't specify the function as a destination for itself.");
      if (!this.#deliverable(arn, functionName) || !this.#registry.find(targetKey)) {
        throw new InvalidParameterValueException(`The destination ARN ${arn} is invalid.`);
      }
    }
    if (!this.#deliverable(arn, functionName)) {
      const { accountId } = unscope(this.#partition.accountId, functionName);
      throw new InvalidParameterValueException(
        `The destination ARN ${arn} is not supported: Kindling delivers to Lambda functions and to Kindling queues named as SQS queues (arn:aws:sqs:${this.#partition.region}:${accountId}:<name>), of the function's own account.`,
      );
    }
    return arn;
  }
}

function key(functionName: string, qualifier: string): string {
  return `${functionName}:${qualifier}`;
}
