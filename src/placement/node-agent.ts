import type { Logger } from '../shared/index.js';
import type { NodeRecord, NodeTable } from '../store/index.js';

/** How often a node renews its heartbeat: a third of the time after which others count it dead. */
export const HEARTBEAT_MS = 1000;
/** Nodes silent this long are forgotten by the registry (they show as down until then). */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * A node's entry in the fleet's registry: registered at start, its heartbeat renewed with what it
 * says of itself now (state, inventory), removed when it stops. A heartbeat that cannot be written
 * (the store is down) is logged once and tried again on the next beat.
 */
export class NodeAgent {
  readonly #nodes: NodeTable;
  readonly #logger: Logger;
  readonly #describe: () => NodeRecord;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #failing = false;
  #beats = 0;
  #closed = false;

  constructor(deps: { nodes: NodeTable; logger: Logger; describe: () => NodeRecord }) {
    this.#nodes = deps.nodes;
    this.#logger = deps.logger;
    this.#describe = deps.describe;
  }

  /** Registers the node (the first heartbeat must be written), then beats every HEARTBEAT_MS. */
  async start(): Promise<void> {
    await this.#nodes.heartbeat(this.#describe());
    this.#timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Writes a heartbeat now (also when the node's state changed and the fleet should know at once). */
  beat(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return (this.#beating ??= this.#write().finally(() => (this.#beating = undefined)));
  }

  async #write(): Promise<void> {
    try {
      await this.#nodes.heartbeat(this.#describe());
      if (this.#failing) this.#logger.info('fleet: heartbeats are written again');
      this.#failing = false;
      if (++this.#beats % 60 === 0) await this.#nodes.prune(FORGET_AFTER_MS);
    } catch (err) {
      if (!this.#failing) this.#logger.warn('fleet: the heartbeat cannot be written', { error: String(err) });
      this.#failing = true;
    }
  }

  /** Stops beating and deregisters (best effort: a node that cannot reach the store ages out). */
  async close(id: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#beating;
    try {
      await this.#nodes.remove(id);
    } catch (err) {
      this.#logger.warn('fleet: could not deregister; the node ages out of the registry', { error: String(err) });
    }
  }
}
