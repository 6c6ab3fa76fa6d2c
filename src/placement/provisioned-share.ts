import { createHash } from 'node:crypto';
import type { FunctionRecord } from '../store/index.js';
import type { InvokeRequest, InvokeResult, Runner } from '../worker/index.js';
import type { NodeDirectory } from './node-directory.js';
import { poolKey } from './placement.js';

/**
 * A worker node's runner: its own WorkerFleet, but provisioned concurrency spread over the fleet.
 * Every worker reads the same configs and the same list of live workers, and keeps its share of
 * each config: `count / n`, the remainder going to the workers after a rotation picked by the
 * version's name (so single environments of many functions do not all land on one worker). When a
 * worker joins or leaves, every share is computed again.
 */
export class ProvisionedShare implements Runner {
  readonly #local: Runner;
  readonly #directory: NodeDirectory;
  readonly #self: string;
  readonly #wanted = new Map<string, { fn: FunctionRecord; count: number }>();
  readonly #unsubscribe: () => void;

  constructor(local: Runner, directory: NodeDirectory, self: string) {
    this.#local = local;
    this.#directory = directory;
    this.#self = self;
    this.#unsubscribe = directory.onChange(() => {
      for (const { fn, count } of this.#wanted.values()) this.#local.provision(fn, this.share(poolKey(fn), count));
    });
  }

  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult> {
    return this.#local.invoke(fn, request);
  }

  provision(fn: FunctionRecord, count: number): void {
    const key = poolKey(fn);
    if (count === 0) this.#wanted.delete(key);
    else this.#wanted.set(key, { fn, count });
    this.#local.provision(fn, this.share(key, count));
  }

  /** This worker's part of `count` environments of the version `key`. */
  share(key: string, count: number): number {
    const ids = this.#directory.workers.map((w) => w.id);
    if (!ids.includes(this.#self)) ids.push(this.#self);
    ids.sort();
    const n = ids.length;
    const rotation = createHash('sha256').update(key).digest().readUInt32BE(0) % n;
    const position = (ids.indexOf(this.#self) - rotation + n) % n;
    return Math.floor(count / n) + (position < count % n ? 1 : 0);
  }

  provisionedReady(fn: FunctionRecord): number {
    return this.#local.provisionedReady(fn);
  }

  retire(name: string, version?: string): void {
    this.#local.retire(name, version);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await this.#local.close();
  }
}
