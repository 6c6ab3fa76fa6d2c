import type { CodeStore } from '../code/index.js';
import {
  InvalidParameterValueException,
  ResourceNotFoundException,
  ValidationException,
  lambdaTimestamp,
  bareName,
  inScope,
  scopedName,
  unscope,
  type Clock,
  type Logger,
  type Partition,
} from '../shared/index.js';
import type { FunctionLayer, LayerVersionRecord, Store } from '../store/index.js';
import * as v from './validation.js';

export interface LayerRegistryDeps {
  store: Store;
  code: CodeStore;
  partition: Partition;
  clock: Clock;
  logger: Logger;
  /**
   * Whether `account` may use the layer version `arn` of another account in its functions (the
   * layer version's resource policy, AddLayerVersionPermission). Without it, no account may.
   */
  layerAccess?: (arn: string, account: string) => boolean;
}

/** The query of ListLayers / ListLayerVersions, as it came in (`null` when absent). */
export interface LayerListQuery {
  compatibleRuntime: string | null;
  compatibleArchitecture: string | null;
  marker: string | null;
  maxItems: string | null;
}

/** Lambda's limit on the layers of one function. */
export const MAX_FUNCTION_LAYERS = 5;

// Patterns and lengths from the AWS SDK model.
const NAME_MAX = 140;
const LIST_MAX = 50;
const NAME = /^(?:arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)|([a-zA-Z0-9-_]+))$/;
const NAME_PATTERN = '(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+';
const VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;
/** AWS-managed layers: valid in a function's Layers, but none exist here. */
const AWS_LAYER = /^arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+$/;
const VERSION_ARN_PATTERN =
  '(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)';
const BY_ARN = /^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$/;
const BY_ARN_PATTERN = 'arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+';
const NOT_FOUND = 'The resource you requested does not exist.';

/**
 * Layers: PublishLayerVersion and the reads around it, and the check of a function's `Layers`.
 * The store is the only state (layers are read on the control plane only, never when invoking).
 * Deleting a version hides it; its zip and unpacked tree stay, so functions using it keep working.
 */
export class LayerRegistry {
  readonly #deps: LayerRegistryDeps;

  constructor(deps: LayerRegistryDeps) {
    this.#deps = deps;
  }

  /** The ARN of the layer keyed `key` (its name in its account: account-scope.ts). */
  layerArn(key: string): string {
    const { accountId, name } = unscope(this.#deps.partition.accountId, key);
    return `arn:aws:lambda:${this.#deps.partition.region}:${accountId}:layer:${name}`;
  }

  versionArn(name: string, version: number): string {
    return `${this.layerArn(name)}:${version}`;
  }

  /** Publishes in `account` (the caller's: a layer is always published in its publisher's account). */
  async publish(nameInput: string, body: Record<string, unknown>, account = this.#deps.partition.accountId): Promise<LayerVersionRecord> {
    const layerName = this.#name(nameInput, account);
    if (!inScope(this.#deps.partition.accountId, account, layerName)) {
      throw new InvalidParameterValueException(`The account in the layer ARN does not match the caller's account: ${nameInput}`);
    }
    const description = v.validateDescription(body['Description']) ?? '';
    const compatibleRuntimes = v.validateCompatibleRuntimes(body['CompatibleRuntimes']);
    const compatibleArchitectures = v.validateCompatibleArchitectures(body['CompatibleArchitectures']);
    const licenseInfo = v.validateLicenseInfo(body['LicenseInfo']);
    const zip = v.decodeLayerContent(body['Content']);
    // Unpacked (and refused if unsafe) before a version number is taken: a bad zip uses none.
    const code = await this.#deps.code.put(zip);
    const record = await this.#deps.store.layerVersions.publish({
      layerName,
      description,
      ...(licenseInfo !== undefined ? { licenseInfo } : {}),
      ...(compatibleRuntimes ? { compatibleRuntimes } : {}),
      ...(compatibleArchitectures ? { compatibleArchitectures } : {}),
      codeSha256: code.sha256,
      codeKey: code.key,
      codeSize: code.size,
      unzippedSize: code.unzippedSize,
      createdDate: this.#deps.clock.now(),
    });
    this.#deps.logger.info('layer version published', { layer: layerName, version: record.version });
    return record;
  }

  async get(nameInput: string, versionInput: string, account = this.#deps.partition.accountId): Promise<LayerVersionRecord> {
    const record = await this.#deps.store.layerVersions.get(this.#name(nameInput, account), this.#version(versionInput));
    if (!record) throw new ResourceNotFoundException(NOT_FOUND);
    return record;
  }

  async getByArn(arn: string | null, account = this.#deps.partition.accountId): Promise<LayerVersionRecord> {
    if (arn === null) throw ValidationException.constraint('null', 'arn', 'Member must not be null');
    if (arn.length > NAME_MAX) throw ValidationException.constraint(arn, 'arn', `Member must have length less than or equal to ${NAME_MAX}`);
    if (!BY_ARN.test(arn)) throw ValidationException.constraint(arn, 'arn', `Member must satisfy regular expression pattern: ${BY_ARN_PATTERN}`);
    const colon = arn.lastIndexOf(':');
    return this.get(arn.slice(0, colon), arn.slice(colon + 1), account);
  }

  /** Lambda answers 204 whether or not the version existed. */
  async delete(nameInput: string, versionInput: string, account = this.#deps.partition.accountId): Promise<void> {
    const layerName = this.#name(nameInput, account);
    const version = this.#version(versionInput);
    if (await this.#deps.store.layerVersions.delete(layerName, version)) {
      this.#deps.logger.info('layer version deleted', { layer: layerName, version });
    }
  }

  /** ListLayers: each of the account's layers with its latest version matching the filters, by name. */
  async listLayers(query: LayerListQuery, account = this.#deps.partition.accountId): Promise<Record<string, unknown>> {
    const home = this.#deps.partition.accountId;
    const filter = v.validateLayerFilters(query.compatibleRuntime, query.compatibleArchitecture);
    const maxItems = parseMaxItems(query.maxItems);
    const latest = new Map<string, LayerVersionRecord>();
    // Newest first within a layer: the first match is the latest matching version.
    for (const record of await this.#deps.store.layerVersions.list()) {
      if (inScope(home, account, record.layerName) && !latest.has(record.layerName) && matches(record, filter)) latest.set(record.layerName, record);
    }
    const all = [...latest.values()].filter((record) => query.marker === null || bareName(record.layerName) > query.marker);
    const page = all.slice(0, maxItems);
    return {
      Layers: page.map((record) => ({
        LayerName: bareName(record.layerName),
        LayerArn: this.layerArn(record.layerName),
        LatestMatchingVersion: this.#listItem(record),
      })),
      ...(all.length > maxItems ? { NextMarker: bareName(page[page.length - 1]!.layerName) } : {}),
    };
  }

  /** ListLayerVersions: newest first; an unknown layer has no versions (not an error, as on Lambda). */
  async listVersions(nameInput: string, query: LayerListQuery, account = this.#deps.partition.accountId): Promise<Record<string, unknown>> {
    const layerName = this.#name(nameInput, account);
    const filter = v.validateLayerFilters(query.compatibleRuntime, query.compatibleArchitecture);
    const maxItems = parseMaxItems(query.maxItems);
    const before = query.marker === null ? Infinity : Number(query.marker);
    if (Number.isNaN(before)) throw new InvalidParameterValueException(`Invalid marker: ${query.marker}`);
    const all = (await this.#deps.store.layerVersions.listVersions(layerName)).filter((record) => record.version < before && matches(record, filter));
    const page = all.slice(0, maxItems);
    return {
      LayerVersions: page.map((record) => this.#listItem(record)),
      ...(all.length > maxItems ? { NextMarker: String(page[page.length - 1]!.version) } : {}),
    };
  }

  /** Bytes of the account's live layer versions' zips: part of GetAccountSettings' TotalCodeSize. */
  async totalCodeSize(account = this.#deps.partition.accountId): Promise<number> {
    const home = this.#deps.partition.accountId;
    return (await this.#deps.store.layerVersions.list()).filter((record) => inScope(home, account, record.layerName)).reduce((sum, record) => sum + record.codeSize, 0);
  }

  /** Whether `key` is the zip of a live layer version (Content.Location serves only those). */
  async hasCode(key: string): Promise<boolean> {
    return (await this.#deps.store.layerVersions.list()).some((record) => record.codeKey === key);
  }

  /**
   * Checks a function's `Layers` (CreateFunction, UpdateFunctionConfiguration): up to 5 layer
   * version ARNs, each existing, no layer twice. Returns them in the given order; undefined or
   * null gives an empty list. `account` is the function's: another account's layer version must
   * allow it (`layerAccess`).
   */
  async resolve(layers: unknown, account = this.#deps.partition.accountId): Promise<FunctionLayer[]> {
    if (layers === undefined || layers === null) return [];
    if (!Array.isArray(layers)) throw ValidationException.constraint(layers, 'layers', 'Member must be a list');
    const arns = layers as unknown[];
    if (!arns.every((arn): arn is string => typeof arn === 'string' && arn.length <= NAME_MAX && (VERSION_ARN.test(arn) || AWS_LAYER.test(arn)))) {
      throw ValidationException.constraint(
        `[${arns.map(String).join(', ')}]`,
        'layers',
        `Member must satisfy constraint: [Member must have length less than or equal to ${NAME_MAX}, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${VERSION_ARN_PATTERN}, Member must not be null]`,
      );
    }
    if (arns.length > MAX_FUNCTION_LAYERS) throw new InvalidParameterValueException(`Cannot reference more than ${MAX_FUNCTION_LAYERS} layers.`);
    const seen = new Map<string, string>();
    const out: FunctionLayer[] = [];
    // One at a time, in the given order: the first bad ARN is the one Lambda names.
    for (const arn of arns) {
      const record = await this.#find(arn, account);
      const previous = seen.get(record.layerName);
      if (previous !== undefined) {
        throw new InvalidParameterValueException(
          `Two different versions of the same layer are not allowed to be referenced in the same function. ${previous} and ${arn} are versions of the same layer.`,
        );
      }
      seen.set(record.layerName, arn);
      out.push({ arn: this.versionArn(record.layerName, record.version), codeKey: record.codeKey, codeSize: record.codeSize });
    }
    return out;
  }

  /** The unpacked size of a function's layers (deleted versions included: the function still has them). */
  async unzippedBytes(layers: readonly FunctionLayer[]): Promise<number> {
    let total = 0;
    for (const layer of layers) {
      const [, , account, name, version] = VERSION_ARN.exec(layer.arn) ?? [];
      const key = account && name && scopedName(this.#deps.partition.accountId, account, name);
      const record = key && (await this.#deps.store.layerVersions.get(key, Number(version), { includeDeleted: true }));
      // Versions are only ever flagged deleted, never removed: a missing one is a bug of ours.
      if (!record) throw new Error(`Layer version ${layer.arn} is not in the store`);
      total += record.unzippedSize;
    }
    return total;
  }

  /** The PublishLayerVersion / GetLayerVersion response; `location` is where the zip is served. */
  toShape(record: LayerVersionRecord, location: string): Record<string, unknown> {
    return {
      Content: { Location: location, CodeSha256: record.codeSha256, CodeSize: record.codeSize },
      LayerArn: this.layerArn(record.layerName),
      ...this.#listItem(record),
    };
  }

  /** LayerVersionsListItem. */
  #listItem(record: LayerVersionRecord): Record<string, unknown> {
    return {
      LayerVersionArn: this.versionArn(record.layerName, record.version),
      Version: record.version,
      Description: record.description,
      CreatedDate: lambdaTimestamp(record.createdDate),
      ...(record.compatibleRuntimes ? { CompatibleRuntimes: record.compatibleRuntimes } : {}),
      ...(record.compatibleArchitectures ? { CompatibleArchitectures: record.compatibleArchitectures } : {}),
      ...(record.licenseInfo !== undefined ? { LicenseInfo: record.licenseInfo } : {}),
    };
  }

  /** A live layer version named by a function's `Layers` entry, or Lambda's refusal. */
  async #find(arn: string, caller: string): Promise<LayerVersionRecord> {
    const [, region, account, name, version] = VERSION_ARN.exec(arn) ?? [];
    const { partition } = this.#deps;
    if (region !== undefined && region !== partition.region) {
      throw new InvalidParameterValueException(
        `Layers are not in the same region as the function. Layers are expected to be in region ${partition.region}.`,
      );
    }
    // The layer of the account its ARN names; another account's only where its policy allows the
    // function's account (to everyone else it does not exist). AWS-managed layers do not exist here.
    const visible = account !== undefined && (account === caller || (this.#deps.layerAccess?.(arn, caller) ?? false));
    const record = name !== undefined && visible ? await this.#deps.store.layerVersions.get(scopedName(partition.accountId, account, name), Number(version)) : undefined;
    if (!record) throw new InvalidParameterValueException(`Layer version ${arn} does not exist.`);
    return record;
  }

  /** A LayerName parameter: a name (the caller's layer) or a layer ARN (of this region); its key. */
  #name(input: string, account: string): string {
    if (input.length > NAME_MAX) throw ValidationException.constraint(input, 'layerName', `Member must have length less than or equal to ${NAME_MAX}`);
    const match = NAME.exec(input);
    if (!match) throw ValidationException.constraint(input, 'layerName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`);
    const [, region, owner, arnName, plainName] = match;
    if (arnName !== undefined && region !== this.#deps.partition.region) throw new ResourceNotFoundException(NOT_FOUND);
    return scopedName(this.#deps.partition.accountId, arnName !== undefined ? owner! : account, (arnName ?? plainName)!);
  }

  #version(input: string): number {
    if (!/^-?\d{1,15}$/.test(input)) throw ValidationException.constraint(input, 'versionNumber', 'Member must be a number');
    const version = Number(input);
    if (version < 1) throw new InvalidParameterValueException('Layer Version Cannot be less than 1');
    return version;
  }
}

function matches(record: LayerVersionRecord, filter: { runtime?: string; architecture?: string }): boolean {
  return (
    (filter.runtime === undefined || (record.compatibleRuntimes ?? []).includes(filter.runtime)) &&
    (filter.architecture === undefined || (record.compatibleArchitectures ?? []).includes(filter.architecture))
  );
}

function parseMaxItems(raw: string | null): number {
  if (raw === null) return LIST_MAX;
  return v.expectInteger(Number(raw), 'maxItems', 1, LIST_MAX) ?? LIST_MAX;
}
