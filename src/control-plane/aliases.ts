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
    for (const record of deps.store.aliases.list()) this.#of(record.functionName).set(record.name, record);
    deps.versions.setReferences((name, version) =>
      [...(this.#aliases.get(name)?.values() ?? [])]
        .filter((a) => a.functionVersion === version || a.additionalVersionWeights?.[version] !== undefined)
        .map((a) => a.name),
    );
    deps.registry.on('change', (name, kind) => {
      if (kind !== 'deleted') return;
      this.#aliases.delete(name);
      deps.store.aliases.deleteFunction(name);
    });
  }

  find(name: string, alias: string): AliasRecord | undefined {
    return this.#aliases.get(name)?.get(alias);
  }

  get(ref: string, alias: string): AliasRecord {
    const { name } = parseFunctionRef(ref, this.#partition);
    this.#registry.getByName(name);
    const record = this.find(name, alias);
    if (!record) throw new ResourceNotFoundException(`Alias not found: ${functionArn(this.#partition, name, alias)}`);
    return record;
  }

  list(ref: string, functionVersion: string | null): AliasRecord[] {
    const { name } = parseFunctionRef(ref, this.#partition);
    this.#registry.getByName(name);
    return [...(this.#aliases.get(name)?.values() ?? [])]
      .filter((a) => functionVersion === null || a.functionVersion === functionVersion)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  create(ref: string, body: Record<string, unknown>): AliasRecord {
    const { name } = parseFunctionRef(ref, this.#partition);
    this.#registry.getByName(name);
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

  update(ref: string, aliasName: string, body: Record<string, unknown>): AliasRecord {
    const current = this.get(ref, aliasName);
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

  delete(ref: string, aliasName: string): void {
    const record = this.get(ref, aliasName);
    this.#store.aliases.delete(record.functionName, record.name);
    this.#aliases.get(record.functionName)?.delete(record.name);
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
    if (entries.length > 1) {
      throw ValidationException.constraint(JSON.stringify(weights), 'routingConfig.additionalVersionWeights', 'Member must have length less than or equal to 1');
    }
    const [version, weight] = entries[0]!;
    if (!VERSION.test(version)) {
      throw ValidationException.constraint(version, 'routingConfig.additionalVersionWeights.key', 'Member must satisfy regular expression pattern: [0-9]+');
    }
    if (typeof weight !== 'number' || weight < 0 || weight > 1) {
      throw ValidationException.constraint(weight, 'routingConfig.additionalVersionWeights.value', 'Member must have value between 0.0 and 1.0');
    }
    if (record.functionVersion === '$LATEST') {
      throw new InvalidParameterValueException('$LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (version === record.functionVersion) {
      throw new InvalidParameterValueException('The primary version and the additional version of an alias cannot be the same.');
    }
    this.#versions.get(record.functionName, version);
    record.additionalVersionWeights = { [version]: weight };
  }

  #save(record: AliasRecord): AliasRecord {
    this.#store.aliases.put(record);
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
