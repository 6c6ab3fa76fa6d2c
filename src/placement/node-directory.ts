import { NODE_DEAD_AFTER_MS, type Logger, type WorkerInventory } from '../shared/index.js';
import type { NodeStatus, NodeTable } from '../store/index.js';

/** A worker as placement sees it: its heartbeat and what it last said it runs. */
export interface WorkerView {
  readonly id: string;
  readonly address: string;
  readonly memoryMb: number;
  readonly drivers: readonly string[];
  readonly inventory: WorkerInventory;
}

export interface DirectoryOptions {
  /** How often the registry is read. */
  readonly refreshMs: number;
  /** A node silent this long is out of routing (the issue: within 5 s of its last heartbeat). */
  readonly deadAfterMs: number;
}

export const DIRECTORY_DEFAULTS: DirectoryOptions = { refreshMs: 1000, deadAfterMs: NODE_DEAD_AFTER_MS };

const EMPTY: WorkerInventory = { pools: {}, memoryUsedMb: 0, busy: 0 };

/**
 * The fleet's workers, read from the store's node registry every `refreshMs`. A worker leaves
 * routing when its heartbeat is older than `deadAfterMs`, when it says it is draining, or at once
 * when a call finds it unreachable (until it heartbeats again). When the store cannot be read the
 * last view stays (static stability: what the node knows is enough to keep routing).
 */
export class NodeDirectory {
  readonly #nodes: NodeTable;
  readonly #logger: Logger;
  readonly #options: DirectoryOptions;
  #workers: WorkerView[] = [];
  #apiNodes = 1;
  /** Workers found unreachable or draining, with the heartbeat they had then. */
  readonly #down = new Map<string, number>();
  /** The last heartbeat seen of each node (what a `#down` mark is compared with). */
  readonly #heartbeats = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #storeDown = false;
  readonly #listeners = new Set<() => void>();

  constructor(deps: { nodes: NodeTable; logger: Logger }, options: DirectoryOptions = DIRECTORY_DEFAULTS) {
    this.#nodes = deps.nodes;
    this.#logger = deps.logger;
    this.#options = options;
  }

  /** Reads the registry once, then keeps reading it. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#options.refreshMs);
    this.#timer.unref();
  }

  /** Workers in routing now. */
  get workers(): readonly WorkerView[] {
    return this.#workers;
  }

  /** Live api nodes (at least 1): how a limit is shared when the store cannot be asked. */
  get apiNodes(): number {
    return this.#apiNodes;
  }

  /** Called after each refresh that changed the set of workers in routing. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes a worker out of routing until it heartbeats again (a call could not reach it, or it drains). */
  markDown(id: string): void {
    const worker = this.#workers.find((w) => w.id === id);
    if (!worker) return;
    this.#down.set(id, this.#heartbeats.get(id) ?? 0);
    this.#set(this.#workers.filter((w) => w.id !== id));
  }


  refresh(): Promise<void> {
    return (this.#refreshing ??= this.#read().finally(() => (this.#refreshing = undefined)));
  }

  async #read(): Promise<void> {
    let nodes: NodeStatus[];
    try {
      nodes = await this.#nodes.list();
    } catch (err) {
      if (!this.#storeDown) this.#logger.warn('fleet: the node registry cannot be read; routing on what is known', { error: String(err) });
      this.#storeDown = true;
      return;
    }
    if (this.#storeDown) this.#logger.info('fleet: the node registry answers again');
    this.#storeDown = false;
    const live = nodes.filter((node) => node.silentMs <= this.#options.deadAfterMs);
    this.#apiNodes = Math.max(1, live.filter((node) => node.roles.includes('api')).length);
    const workers: WorkerView[] = [];
    for (const node of live) {
      this.#heartbeats.set(node.id, node.heartbeatAt);
      if (!node.roles.includes('worker') || node.state !== 'active') continue;
      const downAt = this.#down.get(node.id);
      if (downAt !== undefined) {
        if (node.heartbeatAt <= downAt) continue;
        this.#down.delete(node.id);
      }
      workers.push({ id: node.id, address: node.address, memoryMb: node.memoryMb, drivers: node.drivers, inventory: parseInventory(node.inventory) });
    }
    // Right after an outage no worker has heartbeat yet: keep the last view rather than none.
    if (workers.length === 0 && this.#workers.length > 0 && nodes.some((node) => node.roles.includes('worker') && node.state === 'active' && !this.#down.has(node.id))) {
      return;
    }
    this.#set(workers);
  }

  #set(workers: WorkerView[]): void {
    const before = this.#workers.map((w) => w.id).join(',');
    this.#workers = workers;
    if (workers.map((w) => w.id).join(',') !== before) for (const listener of this.#listeners) listener();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#listeners.clear();
  }
}

function parseInventory(text: string): WorkerInventory {
  try {
    const parsed = JSON.parse(text) as Partial<WorkerInventory>;
    return { pools: parsed.pools ?? {}, memoryUsedMb: parsed.memoryUsedMb ?? 0, busy: parsed.busy ?? 0 };
  } catch {
    return EMPTY;
  }
}
