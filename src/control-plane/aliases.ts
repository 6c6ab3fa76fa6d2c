import {
  InvalidParameterValueException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
  ValidationException,
  functionArn,
  newRevisionId,
  parseFunctionRef,
  type Partition,
} from '../shared/index.js';
import type { AliasRecord, FunctionRecord, Store } from '../store/index.js';
import type { FunctionRegistry } from './function-registry.js';
import type { FunctionVersions } from './function-versions.js';
import { expectString, validateDescription } from './validation.js';

/** Lambda's alias name pattern: not all digits (that would be a version). */
const ALIAS = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const VERSION = /^[0-9]+$/;

/**
 * Aliases (Create / Get / Update / Delete / ListAliases) and the routing of a qualifier to the
 * version that runs: weighted aliases split invokes between two versions.
 */
export class Aliases {
  readonly #store: Store;
  readonly #registry: FunctionRegistry;
  readonly #versions: FunctionVersions;
  readonly #partition: Partition;
  readonly #aliases = new Map<string, Map<string, AliasRecord>>();
  readonly #random: () => number;

  constructor(deps: { store: Store; registry: FunctionRegistry; versions: FunctionVersions; partition: Partition; random?: () => number }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#versions = deps.versions;
    this.#partition = deps.partition;
    this.#random = deps.random ?? Math.random;
    deps.versions.setReferences((name, version) =>
      [...(this.#aliases.get(name)?.values() ?? [])]
        .filter((a) => a.functionVersion === version || a.additionalVersionWeights?.[version] !== undefined)
        .map((a) => a.name),
    );
    deps.registry.cache({
      apply: ({ name, aliases }) => {
        this.#aliases.delete(name);
        for (const record of aliases) this.#of(name).set(record.name, record);
      },
    });
  }

  /** Reads every alias from the store (at start, before the API listens). */
  async load(): Promise<void> {
    for (const record of await this.#store.aliases.list()) this.#of(record.functionName).set(record.name, record);
  }

  find(name: string, alias: string): AliasRecord | undefined {
    return this.#aliases.get(name)?.get(alias);
  }

  get(ref: string, alias: string, account = this.#partition.accountId): AliasRecord {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    this.#registry.getByName(name);
    const record = this.find(name, alias);
    if (!record) throw new ResourceNotFoundException(`Cannot find alias arn: ${functionArn(this.#partition, name, alias)}`);
    return record;
  }

  list(ref: string, functionVersion: string | null, account = this.#partition.accountId): AliasRecord[] {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    this.#registry.getByName(name);
    return [...(this.#aliases.get(name)?.values() ?? [])]
      .filter((a) => functionVersion === null || a.functionVersion === functionVersion)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  create(ref: string, body: Record<string, unknown>, account = this.#partition.accountId): Promise<AliasRecord> {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    return this.#registry.exclusive(name, () => this.#create(name, body));
  }

  #create(name: string, body: Record<string, unknown>): Promise<AliasRecord> {
    if (!this.#registry.find(name)) {
      // Lambda names the version the alias was to point at (test_notfound_and_invalid_routingconfigs).
      const version = typeof body['FunctionVersion'] === 'string' ? body['FunctionVersion'] : undefined;
      throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, version)}`);
    }
    const aliasName = expectString(body['Name'], 'name');
    if (aliasName === undefined) throw ValidationException.constraint('null', 'name', 'Member must not be null');
    if (aliasName.length > 128 || !ALIAS.test(aliasName)) {
      throw ValidationException.constraint(aliasName, 'name', 'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)');
    }
    if (this.find(name, aliasName)) {
      throw new ResourceConflictException(`Alias already exists: ${functionArn(this.#partition, name, aliasName)}`);
    }
    const record: AliasRecord = {
      functionName: name,
      name: aliasName,
      functionVersion: this.#version(name, body['FunctionVersion']),
      description: validateDescription(body['Description']) ?? '',
      revisionId: newRevisionId(),
    };
    this.#routing(record, body['RoutingConfig']);
    return this.#save(record);
  }

  update(ref: string, aliasName: string, body: Record<string, unknown>, account = this.#partition.accountId): Promise<AliasRecord> {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    return this.#registry.exclusive(name, () => this.#update(ref, aliasName, body, account));
  }

  #update(ref: string, aliasName: string, body: Record<string, unknown>, account: string): Promise<AliasRecord> {
    const current = this.get(ref, aliasName, account);
    const revisionId = expectString(body['RevisionId'], 'revisionId');
    if (revisionId !== undefined && revisionId !== current.revisionId) {
      throw new PreconditionFailedException(
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
    const record: AliasRecord = { ...current, revisionId: newRevisionId() };
    if (body['FunctionVersion'] !== undefined) record.functionVersion = this.#version(current.functionName, body['FunctionVersion']);
    const description = validateDescription(body['Description']);
    if (description !== undefined) record.description = description;
    if (body['RoutingConfig'] !== undefined) {
      delete record.additionalVersionWeights;
      this.#routing(record, body['RoutingConfig']);
    } else if (record.additionalVersionWeights && record.functionVersion in record.additionalVersionWeights) {
      throw new InvalidParameterValueException('The primary version and the additional version of an alias cannot be the same.');
    }
    return this.#save(record);
  }

  /** DeleteAlias: Lambda answers 204 for an alias that does not exist (of a function that does). */
  delete(ref: string, aliasName: string, account = this.#partition.accountId): Promise<void> {
    const { name } = parseFunctionRef(ref, this.#partition, undefined, undefined, account);
    return this.#registry.exclusive(name, async () => {
      this.#registry.getByName(name);
      if (!this.find(name, aliasName)) return;
      await this.#store.aliases.delete(name, aliasName);
      this.#aliases.get(name)?.delete(aliasName);
    });
  }

  /** The record a qualifier names for the control plane (an alias: its primary version). */
  lookup(name: string, qualifier: string | undefined): FunctionRecord {
    const record =
      qualifier === undefined || qualifier === '$LATEST' || VERSION.test(qualifier)
        ? this.resolve(name, qualifier)
        : this.#primary(name, qualifier);
    if (!record) throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, qualifier)}`);
    return record;
  }

  #primary(name: string, alias: string): FunctionRecord | undefined {
    const record = this.find(name, alias);
    if (!record) return undefined;
    return record.functionVersion === '$LATEST' ? this.#registry.find(name) : this.#versions.find(name, record.functionVersion);
  }

  /**
   * The function record that runs for `qualifier`: $LATEST, a version, or an alias (a weighted alias
   * picks one of its two versions at random, in proportion). Undefined when there is none.
   */
  resolve(name: string, qualifier: string | undefined): FunctionRecord | undefined {
    if (qualifier === undefined || qualifier === '$LATEST') return this.#registry.find(name);
    if (VERSION.test(qualifier)) return this.#versions.find(name, qualifier);
    const alias = this.find(name, qualifier);
    if (!alias) return undefined;
    let version = alias.functionVersion;
    const weights = alias.additionalVersionWeights;
    if (weights) {
      let roll = this.#random();
      for (const [extra, weight] of Object.entries(weights)) {
        if (roll < weight) {
          version = extra;
          break;
        }
        roll -= weight;
      }
    }
    return version === '$LATEST' ? this.#registry.find(name) : this.#versions.find(name, version);
  }

  /** The AliasConfiguration shape of the AWS SDK model. */
  toShape(record: AliasRecord): Record<string, unknown> {
    return {
      AliasArn: functionArn(this.#partition, record.functionName, record.name),
      Name: record.name,
      FunctionVersion: record.functionVersion,
      Description: record.description,
      ...(record.additionalVersionWeights ? { RoutingConfig: { AdditionalVersionWeights: record.additionalVersionWeights } } : {}),
      RevisionId: record.revisionId,
    };
  }

  #version(name: string, value: unknown): string {
    const version = expectString(value, 'functionVersion');
    if (version === undefined) throw ValidationException.constraint('null', 'functionVersion', 'Member must not be null');
    if (version !== '$LATEST' && !VERSION.test(version)) {
      throw ValidationException.constraint(version, 'functionVersion', 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)');
    }
    if (version !== '$LATEST') this.#versions.get(name, version);
    return version;
  }

  /** RoutingConfig: one additional published version and its weight (0-1), as Lambda allows. */
  #routing(record: AliasRecord, value: unknown): void {
    if (value === undefined || value === null) return;
    const weights = (value as Record<string, unknown>)['AdditionalVersionWeights'];
    if (weights === undefined || weights === null) return;
    if (typeof weights !== 'object') throw ValidationException.constraint(weights, 'routingConfig.additionalVersionWeights', 'Member must be a map');
    const entries = Object.entries(weights as Record<string, unknown>);
    if (entries.length === 0) return;
    // Lambda's own words (test_notfound_and_invalid_routingconfigs); the map is shown as Java prints it.
    const shown = `{${entries.map(([k, w]) => `${k}=${typeof w === 'number' && Number.isInteger(w) ? w.toFixed(1) : String(w)}`).join(', ')}}`;
    if (entries.some(([key]) => !VERSION.test(key))) {
      throw ValidationException.constraint(
        shown,
        'routingConfig.additionalVersionWeights',
        'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]',
      );
    }
    if (entries.some(([, w]) => typeof w !== 'number' || w < 0 || w > 1)) {
      throw ValidationException.constraint(
        shown,
        'routingConfig.additionalVersionWeights',
        'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]',
      );
    }
    if (entries.length > 1) {
      throw new InvalidParameterValueException('Number of items in AdditionalVersionWeights cannot be greater than 1');
    }
    const [version, weight] = entries[0] as [string, number];
    if (record.functionVersion === '$LATEST') {
      throw new InvalidParameterValueException('$LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (version === record.functionVersion) {
      throw new InvalidParameterValueException(`Invalid function version ${version}. Function version ${version} is already included in routing configuration.`);
    }
    this.#versions.get(record.functionName, version);
    record.additionalVersionWeights = { [version]: weight };
  }

  /** In the function's turn: the checks made before it still hold. */
  async #save(record: AliasRecord): Promise<AliasRecord> {
    await this.#store.aliases.put(record);
    this.#of(record.functionName).set(record.name, record);
    return record;
  }

  #of(name: string): Map<string, AliasRecord> {
    let aliases = this.#aliases.get(name);
    if (!aliases) {
      aliases = new Map();
      this.#aliases.set(name, aliases);
    }
    return aliases;
  }
}
