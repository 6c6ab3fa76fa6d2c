import { KindlingError, ServiceException, TooManyRequestsException, type FleetSighting, type Logger } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import type { InvokeRequest, InvokeResult, Runner } from '../worker/index.js';
import { choose, InFlight, poolKey } from './placement.js';
import type { NodeDirectory } from './node-directory.js';
import type { WorkerClient } from './worker-client.js';

/** Tries of other workers after one was unreachable or draining, before giving up. */
const MAX_TRIES = 4;
/** Beyond the function's own timeout, how long a worker may take to answer before it counts as lost. */
const ANSWER_GRACE_MS = 2000;

/**
 * Runs invocations on the fleet's workers (an `api` or `poller` node): placement picks a worker,
 * the fleet wire carries the invocation there. A worker that cannot be reached, or that drains, is
 * taken out of routing and the invocation goes to another (it never started); one lost after the
 * invocation was sent answers ServiceException, which the AWS SDKs retry.
 * Provisioned environments are kept by the workers themselves (each takes its share).
 */
export class RemoteRunner implements Runner {
  readonly #directory: NodeDirectory;
  readonly #client: WorkerClient;
  readonly #logger: Logger;
  readonly #driverOf: (fn: FunctionRecord) => string | undefined;
  readonly #inFlight = new InFlight();
  readonly #sightings = new Map<string, FleetSighting>();

  constructor(deps: { directory: NodeDirectory; client: WorkerClient; logger: Logger; driverOf: (fn: FunctionRecord) => string | undefined }) {
    this.#directory = deps.directory;
    this.#client = deps.client;
    this.#logger = deps.logger;
    this.#driverOf = deps.driverOf;
  }

  async invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult> {
    const key = poolKey(fn);
    const tried = new Set<string>();
    const driver = this.#driverOf(fn);
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const worker = choose({ workers: this.#directory.workers, fn, driver, inFlight: this.#inFlight, sightings: this.#sightings, exclude: tried });
      if (!worker) break;
      tried.add(worker.id);
      this.#inFlight.add(worker.id, key, 1);
      try {
        return await this.#client.invoke(worker.address, fn, request, {
          timeoutMs: fn.timeout * 1000 + ANSWER_GRACE_MS,
          onSighting: (seen) => this.#sightings.set(`${worker.id}|${key}`, seen),
        });
      } catch (err) {
        if (err instanceof KindlingError && (err.code === 'ERR_WORKER_UNREACHABLE' || err.code === 'ERR_WORKER_DRAINING')) {
          this.#logger.warn('fleet: a worker did not take an invocation; trying another', { worker: worker.id, reason: err.code });
          this.#directory.markDown(worker.id);
          this.#forget(worker.id);
          continue;
        }
        if (err instanceof KindlingError && err.code === 'ERR_WORKER_FULL') {
          // Its memory is taken (maybe by another api node's cold starts): another worker may have room.
          this.#sightings.delete(`${worker.id}|${key}`);
          continue;
        }
        if (err instanceof KindlingError && err.code === 'ERR_WORKER_LOST') {
          this.#logger.warn('fleet: a worker was lost during an invocation', { worker: worker.id, requestId: request.requestId });
          this.#directory.markDown(worker.id);
          this.#forget(worker.id);
          throw new ServiceException('The worker running the invocation stopped answering. Retry the request.', { cause: err });
        }
        throw err;
      } finally {
        this.#inFlight.add(worker.id, key, -1);
      }
    }
    if (this.#directory.workers.length === 0) {
      throw new ServiceException('No worker is available to run the function. Retry the request.');
    }
    // Lambda's answer when the fleet has no room for another environment: the concurrency it can give is used up.
    throw new TooManyRequestsException('ConcurrentInvocationLimitExceeded', 1);
  }

  #forget(worker: string): void {
    for (const key of this.#sightings.keys()) if (key.startsWith(`${worker}|`)) this.#sightings.delete(key);
  }

  /** Workers provision their own share of each config (ProvisionedShare): nothing to send from here. */
  provision(): void {}

  /** Ready provisioned environments of this version over the fleet, as the workers last reported. */
  provisionedReady(fn: FunctionRecord): number {
    const key = poolKey(fn);
    let ready = 0;
    for (const worker of this.#directory.workers) {
      const pool = worker.inventory.pools[key];
      if (pool?.revisionId === fn.revisionId) ready += pool.provisionedReady;
    }
    return ready;
  }

  /** Workers follow the store's change feed and retire their own environments. */
  retire(): void {}

  async close(): Promise<void> {
    await this.#client.close();
  }
}
