import {
  InvalidParameterValueException,
  ResourceConflictException,
  ResourceNotFoundException,
  ValidationException,
  functionArn,
  parseFunctionRef,
  unscope,
  type Clock,
  type Partition,
} from '../shared/index.js';
import type { FunctionSnapshot, FunctionUrlRecord, Store } from '../store/index.js';
import type { Aliases } from './aliases.js';
import type { FunctionRegistry } from './function-registry.js';
import { deriveUrlId, isUrlId, updatedUrl, validateUrlQualifier, validateUrlSettings } from './function-url-settings.js';

/** Lambda's words (LocalStack's AWS-validated test_url_config_exceptions). */
const NO_FUNCTION = 'Function does not exist';
const NO_RESOURCE = 'The resource you requested does not exist.';
/** How long a url-id's lookup is reused: fleet api nodes share the store, and its change feed may lag. */
const CACHE_MS = 1000;
/** Lookups kept at most (random hosts must not grow the cache without bound). */
const CACHE_MAX = 10_000;
const PAGE_MAX = 50;

/** A URL as its requests need it: the record, with the function's account and ARN. */
export interface ResolvedFunctionUrl extends FunctionUrlRecord {
  readonly accountId: string;
  /** The function's ARN, qualified by the alias for an alias's URL. */
  readonly functionArn: string;
}

export interface FunctionUrlsDeps {
  store: Store;
  registry: FunctionRegistry;
  aliases: Aliases;
  partition: Partition;
  clock: Clock;
  /** Keys the url-ids (the key file's, so every api node of a fleet derives the same ones). */
  secret: Buffer;
  /** The URL port as configured (`--url-port`); `setPort` gives the one bound. */
  urlPort: number;
  /** `--url-domain`: URLs are `https://<id>.lambda-url.<region>.<domain>/`, behind the operator's TLS. */
  urlDomain?: string;
  /** Whether AWS_IAM URLs can be verified (`--auth sigv4`); else they are refused, never left open. */
  iamAuth: boolean;
}

/**
 * Function URLs (Create / Get / Update / Delete / ListFunctionUrlConfigs): one per function's
 * `$LATEST` or alias, written through to the store, and the lookup of a url-id that every request
 * to a URL makes (`resolve`), cached briefly and dropped when the function changes.
 */
export class FunctionUrls {
  readonly #deps: FunctionUrlsDeps;
  readonly #cache = new Map<string, { at: number; url: Promise<ResolvedFunctionUrl | undefined> }>();
  /** The url-ids looked up and found, by function key. */
  readonly #found = new Map<string, Set<string>>();
  #port: number;

  constructor(deps: FunctionUrlsDeps) {
    this.#deps = deps;
    this.#port = deps.urlPort;
    // A function's change (a URL written, an alias or the function deleted, here or on another
    // server) drops the lookups of its URLs: url-ids are derived, so they are known without a read.
    deps.registry.cache({ apply: (snapshot) => this.#forget(snapshot) });
  }

  /** The port the URL server bound (with `--url-port 0`, known only once it listens). */
  setPort(port: number): void {
    this.#port = port;
  }

  /** The FunctionUrl of a url-id. */
  urlOf(urlId: string): string {
    const { region } = this.#deps.partition;
    const domain = this.#deps.urlDomain;
    return domain ? `https://${urlId}.lambda-url.${region}.${domain}/` : `http://${urlId}.lambda-url.${region}.localhost:${this.#port}/`;
  }

  /** The URL a request's url-id names, if any. The URL server asks this on every request. */
  resolve(urlId: string): Promise<ResolvedFunctionUrl | undefined> {
    if (!isUrlId(urlId)) return Promise.resolve(undefined);
    const now = this.#deps.clock.now();
    const hit = this.#cache.get(urlId);
    if (hit && now - hit.at < CACHE_MS) return hit.url;
    const url = this.#deps.store.functionUrls.byUrlId(urlId).then((record) => {
      if (!record) return undefined;
      const found = this.#found.get(record.functionName) ?? new Set<string>();
      this.#found.set(record.functionName, found.add(urlId));
      return this.#resolved(record);
    });
    this.#cache.delete(urlId);
    if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(urlId, { at: now, url });
    // A store that failed is asked again by the next request, not answered from the failure.
    url.catch(() => this.#cache.get(urlId)?.url === url && this.#cache.delete(urlId));
    return url;
  }

  async create(account: string, ref: string, qualifierParam: string | null, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { name, qualifier } = this.#target(account, ref, qualifierParam);
    const settings = validateUrlSettings(body, true);
    this.#checkAuthType(settings.authType);
    return this.#deps.registry.exclusive(name, async () => {
      this.#exists(name, qualifier, NO_FUNCTION);
      const now = this.#deps.clock.now();
      const record: FunctionUrlRecord = {
        functionName: name,
        qualifier,
        urlId: this.#urlId(name, qualifier),
        authType: settings.authType!,
        ...(settings.cors ? { cors: settings.cors } : {}),
        invokeMode: settings.invokeMode ?? 'BUFFERED',
        creationTime: now,
        lastModifiedTime: now,
      };
      const outcome = await this.#deps.store.functionUrls.insert(record);
      if (outcome === 'no-target') throw new ResourceNotFoundException(NO_FUNCTION);
      if (outcome === 'exists') {
        throw new ResourceConflictException(
          `Failed to create function url config for [functionArn = ${this.#arn(record)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
        );
      }
      this.#cache.delete(record.urlId);
      const { LastModifiedTime: _, ...shape } = this.toShape(record);
      return shape;
    });
  }

  async get(account: string, ref: string, qualifierParam: string | null): Promise<Record<string, unknown>> {
    const { name, qualifier } = this.#target(account, ref, qualifierParam);
    this.#exists(name, qualifier, NO_RESOURCE);
    const record = await this.#deps.store.functionUrls.get(name, qualifier);
    if (!record) throw new ResourceNotFoundException(NO_RESOURCE);
    return this.toShape(record);
  }

  async update(account: string, ref: string, qualifierParam: string | null, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { name, qualifier } = this.#target(account, ref, qualifierParam);
    const settings = validateUrlSettings(body, false);
    this.#checkAuthType(settings.authType);
    return this.#deps.registry.exclusive(name, async () => {
      this.#exists(name, qualifier, NO_FUNCTION);
      const current = await this.#deps.store.functionUrls.get(name, qualifier);
      if (!current) throw new ResourceNotFoundException(NO_RESOURCE);
      const record = updatedUrl(current, settings, this.#deps.clock.now());
      if (!(await this.#deps.store.functionUrls.replace(record))) throw new ResourceNotFoundException(NO_RESOURCE);
      this.#cache.delete(record.urlId);
      return this.toShape(record);
    });
  }

  async delete(account: string, ref: string, qualifierParam: string | null): Promise<void> {
    const { name, qualifier } = this.#target(account, ref, qualifierParam);
    await this.#deps.registry.exclusive(name, async () => {
      this.#exists(name, qualifier, NO_RESOURCE);
      if (!(await this.#deps.store.functionUrls.delete(name, qualifier))) throw new ResourceNotFoundException(NO_RESOURCE);
      this.#cache.delete(this.#urlId(name, qualifier));
    });
  }

  /** ListFunctionUrlConfigs: a function's URLs by qualifier, `MaxItems` at a time from `Marker`. */
  async list(account: string, ref: string, marker: string | null, maxItemsParam: string | null): Promise<Record<string, unknown>> {
    const maxItems = maxItemsParam === null ? PAGE_MAX : Number(maxItemsParam);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > PAGE_MAX) {
      throw ValidationException.constraint(maxItemsParam, 'maxItems', `Member must have value between 1 and ${PAGE_MAX}`);
    }
    const { name } = parseFunctionRef(ref, this.#deps.partition, undefined, undefined, account);
    if (!this.#deps.registry.find(name)) throw new ResourceNotFoundException(NO_FUNCTION);
    const all = await this.#deps.store.functionUrls.list(name);
    const start = marker === null ? 0 : Number(marker);
    if (!Number.isInteger(start) || start < 0) throw new InvalidParameterValueException(`The Marker '${marker}' is not one this API gave: pass the NextMarker of the previous page.`);
    const page = all.slice(start, start + maxItems);
    return {
      FunctionUrlConfigs: page.map((record) => this.toShape(record)),
      ...(start + maxItems < all.length ? { NextMarker: String(start + maxItems) } : {}),
    };
  }

  /** The FunctionUrlConfig shape of the AWS SDK model. */
  toShape(record: FunctionUrlRecord): Record<string, unknown> {
    return {
      FunctionUrl: this.urlOf(record.urlId),
      FunctionArn: this.#arn(record),
      AuthType: record.authType,
      ...(record.cors ? { Cors: record.cors } : {}),
      CreationTime: new Date(record.creationTime).toISOString(),
      LastModifiedTime: new Date(record.lastModifiedTime).toISOString(),
      InvokeMode: record.invokeMode,
    };
  }

  /** The function key and qualifier a request names (the Qualifier parameter must agree with one in the name). */
  #target(account: string, ref: string, qualifierParam: string | null): { name: string; qualifier: string } {
    const parsed = parseFunctionRef(ref, this.#deps.partition, undefined, undefined, account);
    if (qualifierParam !== null && parsed.qualifier !== undefined && qualifierParam !== parsed.qualifier) {
      throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
    }
    return { name: parsed.name, qualifier: validateUrlQualifier(qualifierParam ?? parsed.qualifier) };
  }

  /** The function, and the alias a qualifier names, must be there. */
  #exists(name: string, qualifier: string, message: string): void {
    if (!this.#deps.registry.find(name)) throw new ResourceNotFoundException(message);
    if (qualifier !== '$LATEST' && !this.#deps.aliases.find(name, qualifier)) throw new ResourceNotFoundException(message);
  }

  #checkAuthType(authType: string | undefined): void {
    if (authType === 'AWS_IAM' && !this.#deps.iamAuth) {
      throw new InvalidParameterValueException(
        'AuthType AWS_IAM needs requests signed with access keys, which this Kindling does not check (it runs with --auth none): start it with --auth sigv4 (docs/security.md), or use AuthType NONE.',
      );
    }
  }

  #urlId(name: string, qualifier: string): string {
    const { accountId, name: bare } = unscope(this.#deps.partition.accountId, name);
    return deriveUrlId(this.#deps.secret, accountId, bare, qualifier);
  }

  #arn(record: FunctionUrlRecord): string {
    return functionArn(this.#deps.partition, record.functionName, record.qualifier === '$LATEST' ? undefined : record.qualifier);
  }

  #resolved(record: FunctionUrlRecord): ResolvedFunctionUrl {
    return { ...record, accountId: unscope(this.#deps.partition.accountId, record.functionName).accountId, functionArn: this.#arn(record) };
  }

  #forget(snapshot: FunctionSnapshot): void {
    for (const qualifier of ['$LATEST', ...snapshot.aliases.map((alias) => alias.name)]) this.#cache.delete(this.#urlId(snapshot.name, qualifier));
    // An alias just deleted is no longer in the snapshot: the URLs found of the function go too.
    for (const urlId of this.#found.get(snapshot.name) ?? []) this.#cache.delete(urlId);
    this.#found.delete(snapshot.name);
  }
}
