import { performance } from 'node:perf_hooks';
import { ReservedLimits } from './reserved-limits.js';
import { scopePrefix, TooManyRequestsException } from '../shared/index.js';
import type { Logger } from '../shared/index.js';
import type { ConcurrencyGrantTable } from '../store/index.js';
import type { Limiter } from './concurrency-limiter.js';

/** How long a grant lives unrenewed: a dead node's slots go back to the fleet after this. */
const GRANT_TTL_MS = 10_000;
/** Renewals come often enough that two may fail before a live node's grants run out. */
const RENEW_EVERY_MS = 3_000;
/** Slots held but unused for a whole period are given back, so another node can take them soon. */
const GIVE_BACK_EVERY_MS = 400;
/** Slots asked of the unreserved pool beyond the need, so a burst is not a round trip per invocation. */
const UNRESERVED_HEADROOM = 4;

export interface FleetLimiterOptions {
  grants: ConcurrencyGrantTable;
  /** This node's id: its grants are held under it. */
  holder: string;
  accountLimit: number;
  /** How many api nodes share the limits, for the local share while the store cannot be reached. */
  apiNodes: () => number;
  logger: Logger;
  ttlMs?: number;
  renewEveryMs?: number;
  giveBackEveryMs?: number;
  headroom?: number;
}

/** One store round trip for a scope's grant; `seq` orders it against the acquires waiting on it. */
interface Claim {
  readonly seq: number;
  /** Whether the store answered. */
  readonly done: Promise<boolean>;
}

/** What this node holds and uses of one scope. */
interface Scope {
  readonly name: string;
  inUse: number;
  /** Slots the store granted us (the most we may use while it answers). */
  held: number;
  /** The most in use since the last give-back tick. */
  peak: number;
  /** Acquires waiting for a claim: the next claim asks for them too. */
  waiting: number;
  /** The last claim made (claims on one scope run one after another). */
  claim?: Claim;
}

/**
 * Concurrency limits across the fleet, with ConcurrencyLimiter's rules: a function with reserved
 * concurrency N is scope `fn:<name>` with limit N; every other function shares scope `*` with the
 * account limit minus everything reserved. The store's grants say how many slots of each scope
 * each api node holds, and their sum never passes the limit (docs/cluster.md).
 *
 * - acquire: a free held slot is taken at once, with no store round trip (the warm path). Else
 *   the scope's grant grows to what is in use, plus what waits, plus a headroom for `*` (none for a
 *   reserved scope, whose few slots other nodes may need). Acquires arriving meanwhile share the
 *   claim in flight. What the store does not grant is a 429 with Lambda's Reason.
 * - Give-back: slots held but unused for a whole period are given back (the grant shrinks to what
 *   is in use), so an idle node does not sit on the fleet's capacity.
 * - Renewal: every grant of this node is renewed well within its ttl; a dead node's grants expire.
 * - Static stability: while the store cannot be reached, warm traffic does not fail: each scope
 *   counts locally against its share (limit / api nodes, at least 1) or what it held, whichever is
 *   more. A warning is logged once; the renewal re-claims what is in use when the store answers.
 */
export class FleetLimiter implements Limiter {
  readonly #grants: ConcurrencyGrantTable;
  readonly #holder: string;
  readonly #accountLimit: number;
  readonly #apiNodes: () => number;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  readonly #giveBackEveryMs: number;
  readonly #headroom: number;
  readonly #reserved = new ReservedLimits();
  readonly #inFlight = new Map<string, number>();
  readonly #scopes = new Map<string, Scope>();
  #seq = 0;
  #storeDown = false;
  /** When the last renewal that the store answered was sent (performance.now()). */
  #lastRenewed = performance.now();
  #renewing = false;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;
  #closing?: Promise<void>;

  constructor(options: FleetLimiterOptions) {
    this.#grants = options.grants;
    this.#holder = options.holder;
    this.#accountLimit = options.accountLimit;
    this.#apiNodes = options.apiNodes;
    this.#logger = options.logger;
    this.#ttlMs = options.ttlMs ?? GRANT_TTL_MS;
    this.#renewEveryMs = options.renewEveryMs ?? RENEW_EVERY_MS;
    this.#giveBackEveryMs = options.giveBackEveryMs ?? GIVE_BACK_EVERY_MS;
    this.#headroom = options.headroom ?? UNRESERVED_HEADROOM;
  }

  start(): void {
    if (this.#closed || this.#timers.length > 0) return;
    this.#lastRenewed = performance.now();
    this.#timers = [
      setInterval(() => void this.#renew(), this.#renewEveryMs).unref(),
      setInterval(() => this.#giveBack(), this.#giveBackEveryMs).unref(),
    ];
  }

  setReserved(name: string, reserved: number | undefined): void {
    this.#reserved.set(name, reserved);
  }

  acquire(name: string): boolean | Promise<boolean> {
    const fromUnreserved = this.#reserved.get(name) === undefined;
    const scope = this.#scope(scopeName(name, fromUnreserved));
    if (scope.inUse < this.#capacity(scope)) return this.#take(scope, name, fromUnreserved);
    // No round trip when the answer is known: over the limit itself, or the store is away (the
    // renewal finds out when it is back).
    if (scope.inUse >= this.#limit(scope) || this.#storeDown || this.#closed) throw throttle(fromUnreserved);
    return this.#acquireByClaim(scope, name, fromUnreserved);
  }

  release(name: string, fromUnreserved: boolean): void {
    const running = this.#inFlight.get(name) ?? 0;
    if (running <= 1) this.#inFlight.delete(name);
    else this.#inFlight.set(name, running - 1);
    const scope = this.#scopes.get(scopeName(name, fromUnreserved));
    if (scope !== undefined && scope.inUse > 0) scope.inUse--;
  }

  inFlight(name?: string): number {
    if (name !== undefined) return this.#inFlight.get(name) ?? 0;
    let total = 0;
    for (const n of this.#inFlight.values()) total += n;
    return total;
  }

  /** Stops the timers and gives every grant back (they expire anyway if the store is away). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    // A claim landing after the release would leave a grant behind until its ttl.
    await Promise.all([...this.#scopes.values()].map((scope) => scope.claim?.done));
    for (const scope of this.#scopes.values()) scope.held = 0;
    try {
      await this.#grants.release(this.#holder);
    } catch (err) {
      this.#logger.warn('could not give the concurrency grants back; they expire on their own', { error: (err as Error).message });
    }
  }

  async #acquireByClaim(scope: Scope, name: string, fromUnreserved: boolean): Promise<boolean> {
    const joined = ++this.#seq;
    scope.waiting++;
    try {
      for (;;) {
        const claim = scope.claim ?? this.#claim(scope, () => scope.inUse + scope.waiting + (isUnreserved(scope.name) ? this.#headroom : 0));
        await claim.done;
        if (scope.inUse < this.#capacity(scope)) return this.#take(scope, name, fromUnreserved);
        // A claim begun after this acquire asked for it too: the fleet has no slot for it now.
        if (claim.seq > joined || this.#storeDown || this.#closed) throw throttle(fromUnreserved);
      }
    } finally {
      scope.waiting--;
    }
  }

  /** Sets the scope's grant to `want()` (read when the claim runs, after the one before it). */
  #claim(scope: Scope, want: () => number): Claim {
    const previous = scope.claim?.done ?? Promise.resolve(true);
    const claim: Claim = { seq: ++this.#seq, done: previous.then(() => this.#runClaim(scope, want())) };
    scope.claim = claim;
    void claim.done.then(() => {
      if (scope.claim === claim) scope.claim = undefined;
    });
    return claim;
  }

  async #runClaim(scope: Scope, want: number): Promise<boolean> {
    if (this.#closed) return false;
    // Shrinking: stop using the slots before the store can hand them to another node.
    if (want < scope.held) scope.held = want;
    try {
      scope.held = await this.#grants.claim(scope.name, this.#holder, want, this.#limit(scope), this.#ttlMs);
      // Slots granted just now count as used this period: the give-back must not take them at once.
      scope.peak = Math.max(scope.peak, scope.held);
      return true;
    } catch (err) {
      this.#storeFailed(err);
      return false;
    }
  }

  async #renew(): Promise<void> {
    if (this.#renewing || this.#closed) return;
    this.#renewing = true;
    const sent = performance.now();
    try {
      // After an outage (or a stall past the ttl) the store may have dropped our grants, and what
      // runs on the local share is in no grant: claim what is in use, scope by scope.
      const answered = this.#storeDown || sent - this.#lastRenewed >= this.#ttlMs ? await this.#reclaim() : await this.#renewGrants();
      if (answered) {
        this.#lastRenewed = sent;
        if (this.#storeDown) {
          this.#storeDown = false;
          this.#logger.info('the store answers again: concurrency is counted by fleet grants');
        }
      } else if (performance.now() - this.#lastRenewed >= this.#ttlMs) {
        // Past the ttl our grants are gone: only the local share is left until the store answers.
        for (const scope of this.#scopes.values()) scope.held = 0;
      }
    } finally {
      this.#renewing = false;
    }
  }

  async #renewGrants(): Promise<boolean> {
    try {
      await this.#grants.renew(this.#holder, this.#ttlMs);
      return true;
    } catch (err) {
      this.#storeFailed(err);
      return false;
    }
  }

  /** Whether the store answered every scope's claim. */
  async #reclaim(): Promise<boolean> {
    const scopes = [...this.#scopes.values()];
    const answered = await Promise.all(scopes.map((scope) => this.#claim(scope, () => scope.inUse).done));
    return !answered.includes(false);
  }

  #giveBack(): void {
    if (this.#storeDown || this.#closed) return;
    for (const scope of this.#scopes.values()) {
      if (scope.claim === undefined && scope.peak < scope.held) this.#claim(scope, () => scope.inUse);
      scope.peak = scope.inUse;
      if (scope.inUse === 0 && scope.held === 0 && scope.waiting === 0 && scope.claim === undefined) this.#scopes.delete(scope.name);
    }
  }

  #storeFailed(err: unknown): void {
    if (this.#storeDown) return;
    this.#storeDown = true;
    this.#logger.warn('cannot reach the store for concurrency grants: counting locally against a share of each limit', {
      error: (err as Error).message,
    });
  }

  #take(scope: Scope, name: string, fromUnreserved: boolean): boolean {
    scope.inUse++;
    scope.peak = Math.max(scope.peak, scope.inUse);
    this.#inFlight.set(name, (this.#inFlight.get(name) ?? 0) + 1);
    return fromUnreserved;
  }

  #scope(name: string): Scope {
    let scope = this.#scopes.get(name);
    if (scope === undefined) {
      scope = { name, inUse: 0, held: 0, peak: 0, waiting: 0 };
      this.#scopes.set(name, scope);
    }
    return scope;
  }

  #limit(scope: Scope): number {
    if (isUnreserved(scope.name)) return Math.max(0, this.#accountLimit - this.#reserved.total(scope.name.slice(0, -1)));
    return this.#reserved.get(scope.name.slice('fn:'.length)) ?? 0;
  }

  /** The slots this node may use now: its grant, or while the store is away its local share. */
  #capacity(scope: Scope): number {
    const limit = this.#limit(scope);
    if (!this.#storeDown) return Math.min(limit, scope.held);
    const share = Math.max(1, Math.floor(limit / Math.max(1, this.#apiNodes())));
    return Math.min(limit, Math.max(scope.held, share));
  }
}

/**
 * A grant's scope: `fn:<key>` for a function with reserved concurrency, `<account prefix>*` for an
 * account's unreserved pool (`*` for the default account's, as before accounts existed).
 */
function scopeName(name: string, fromUnreserved: boolean): string {
  return fromUnreserved ? `${scopePrefix(name)}*` : `fn:${name}`;
}

function isUnreserved(scope: string): boolean {
  return scope.endsWith('*');
}

function throttle(fromUnreserved: boolean): TooManyRequestsException {
  return new TooManyRequestsException(fromUnreserved ? 'ConcurrentInvocationLimitExceeded' : 'ReservedFunctionConcurrentInvocationLimitExceeded', 1);
}
