import type { ResourcePolicies, ResourceRequest } from '../identity/index.js';
import type { Logger } from '../shared/index.js';
import { isLayerPolicyOwner, type ResourcePolicyRecord, type Store } from '../store/index.js';
import { policyAllows } from './policy-evaluation.js';
import type { ResourcePolicyDocument } from './policy-statements.js';

/**
 * Every resource policy (functions, versions, aliases, layer versions), in memory: Invoke asks
 * `allows` on its hot path, so it never waits for the store. The store stays the source of truth:
 * each policy write is announced on the store's change feed under its owner (the function, or the
 * layer), this process's and other servers' alike, and the owner's policies are then read again,
 * in order. A lost feed reads them all again.
 */
export class ResourcePolicyCache implements ResourcePolicies {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #live: (owner: string, qualifier: string) => boolean;
  readonly #policies = new Map<string, { document: ResourcePolicyDocument; owner: string; qualifier: string }>();
  /** The ARNs cached per owner, so an owner's read replaces exactly its own. */
  readonly #byOwner = new Map<string, Set<string>>();
  /** One read at a time per owner, in the order the changes came. */
  readonly #reads = new Map<string, Promise<void>>();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: {
    store: Store;
    logger: Logger;
    /**
     * Whether the resource a policy belongs to is there now, by the control plane's own memory. A
     * deleted alias or function loses its grants at once, before the change feed's read of its
     * policies comes back (the store removed them in the deletion's transaction).
     */
    live?: (owner: string, qualifier: string) => boolean;
  }) {
    this.#store = deps.store;
    this.#logger = deps.logger;
    this.#live = deps.live ?? (() => true);
  }

  /** Reads every policy (at start, before the API listens). */
  async load(): Promise<void> {
    this.#replaceAll(await this.#store.policies.list());
  }

  /** Follows the change feed from now on. */
  watch(): void {
    this.#unsubscribe ??= this.#store.changes.subscribe({
      change: ({ name }) => void this.refresh(name),
      resync: () => void this.#resync(),
    });
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /**
   * Lambda scopes a policy by qualifier: the function's own policy covers its unqualified ARN (and
   * `$LATEST`, which is the same function), a version's or alias's only that qualified ARN.
   */
  allows(resourceArn: string, request: ResourceRequest): boolean {
    const arn = resourceArn.endsWith(':$LATEST') ? resourceArn.slice(0, -':$LATEST'.length) : resourceArn;
    const policy = this.#policies.get(arn);
    return policy !== undefined && this.#live(policy.owner, policy.qualifier) && policyAllows(policy.document, arn, request);
  }

  /** Reads one owner's policies again; resolves once the cache holds what the store holds now. */
  refresh(owner: string): Promise<void> {
    const previous = this.#reads.get(owner) ?? Promise.resolve();
    const read = previous.then(async () => {
      try {
        this.#replaceOwner(owner, await this.#store.policies.listOwner(owner));
      } catch (err) {
        // The next change or resync reads it again; until then the cache keeps what it last saw.
        this.#logger.error('could not read resource policies from the store', { owner, error: String(err) });
      }
    });
    this.#reads.set(owner, read);
    void read.finally(() => {
      if (this.#reads.get(owner) === read) this.#reads.delete(owner);
    });
    return read;
  }

  async #resync(): Promise<void> {
    try {
      this.#replaceAll(await this.#store.policies.list());
    } catch (err) {
      this.#logger.error('could not read resource policies again after the change feed was lost', { error: String(err) });
    }
  }

  #replaceAll(records: readonly ResourcePolicyRecord[]): void {
    this.#policies.clear();
    this.#byOwner.clear();
    for (const record of records) this.#add(record);
  }

  #replaceOwner(owner: string, records: readonly ResourcePolicyRecord[]): void {
    for (const arn of this.#byOwner.get(owner) ?? []) this.#policies.delete(arn);
    this.#byOwner.delete(owner);
    for (const record of records) this.#add(record);
  }

  #add(record: ResourcePolicyRecord): void {
    let document: ResourcePolicyDocument;
    try {
      document = JSON.parse(record.policy) as ResourcePolicyDocument;
    } catch {
      // A policy that cannot be read allows nothing.
      this.#logger.error('ignored a resource policy that is not JSON', { resource: record.resourceArn });
      return;
    }
    this.#policies.set(record.resourceArn, { document, owner: record.owner, qualifier: record.qualifier });
    let arns = this.#byOwner.get(record.owner);
    if (!arns) this.#byOwner.set(record.owner, (arns = new Set()));
    arns.add(record.resourceArn);
  }
}

/** `live` for the cache: functions by the registry, versions and aliases by theirs; layer versions always. */
export function liveInControlPlane(deps: {
  registry: { find(name: string): unknown };
  versions: { find(name: string, version: string): unknown };
  aliases: { find(name: string, alias: string): unknown };
}): (owner: string, qualifier: string) => boolean {
  return (owner, qualifier) => {
    if (isLayerPolicyOwner(owner)) return true;
    if (deps.registry.find(owner) === undefined) return false;
    return qualifier === '' || deps.versions.find(owner, qualifier) !== undefined || deps.aliases.find(owner, qualifier) !== undefined;
  };
}
