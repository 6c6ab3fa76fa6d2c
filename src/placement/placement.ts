import type { FleetSighting } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import type { WorkerView } from './node-directory.js';

/** What this node has sent to each worker and not yet had answered, per function version. */
export class InFlight {
  readonly #counts = new Map<string, Map<string, number>>();

  add(worker: string, key: string, delta: 1 | -1): void {
    let perKey = this.#counts.get(worker);
    if (!perKey) this.#counts.set(worker, (perKey = new Map()));
    const next = (perKey.get(key) ?? 0) + delta;
    if (next <= 0) perKey.delete(key);
    else perKey.set(key, next);
  }

  of(worker: string, key: string): number {
    return this.#counts.get(worker)?.get(key) ?? 0;
  }

  /** Everything sent to a worker and not yet answered. */
  total(worker: string): number {
    let sum = 0;
    for (const n of this.#counts.get(worker)?.values() ?? []) sum += n;
    return sum;
  }
}


/** The pool key of a function version: `name:version`, as workers report their inventory. */
export function poolKey(fn: FunctionRecord): string {
  return `${fn.name}:${fn.version ?? '$LATEST'}`;
}

export interface PlacementInput {
  readonly workers: readonly WorkerView[];
  readonly fn: FunctionRecord;
  /** The sandbox driver the function asks for by tag, if any: only workers that have it qualify. */
  readonly driver: string | undefined;
  readonly inFlight: InFlight;
  /** Fresher than the heartbeat: what each worker said of this version in its last answer. */
  readonly sightings: ReadonlyMap<string, FleetSighting>;
  /** Workers already tried for this invocation. */
  readonly exclude: ReadonlySet<string>;
}

/**
 * Which worker runs an invocation (Lambda's assignment service, in miniature):
 * 1. a worker with a warm environment of this version to spare: its environments of the version
 *    (as its last answer or heartbeat said) less the invocations this node has running there, the
 *    one with the most to spare first;
 * 2. else a cold start, on a worker with memory for one more environment of the function's
 *    MemorySize (idle environments of other functions count as room: the worker shuts them down),
 *    preferring one that already runs this version (its environments stay together and are
 *    reused), then the one with the most memory free;
 * 3. else, when no worker has room, the one whose environments of this version are least
 *    oversubscribed: the invocation waits there for one to finish;
 * 4. undefined when no worker qualifies at all.
 */
export function choose(input: PlacementInput): WorkerView | undefined {
  const { fn } = input;
  const key = poolKey(fn);
  let warm: WorkerView | undefined;
  let warmSpare = 0;
  let cold: WorkerView | undefined;
  let coldScore = -Infinity;
  let queue: WorkerView | undefined;
  let queueSpare = -Infinity;
  for (const worker of input.workers) {
    if (input.exclude.has(worker.id)) continue;
    if (input.driver !== undefined && !worker.drivers.includes(input.driver)) continue;
    const reported = worker.inventory.pools[key];
    const seen = input.sightings.get(`${worker.id}|${key}`);
    const environments = seen?.environments ?? (reported?.revisionId === fn.revisionId ? reported.environments : 0);
    const mine = input.inFlight.of(worker.id, key);
    const spare = environments - mine;
    if (spare > warmSpare) {
      warm = worker;
      warmSpare = spare;
    }
    if (environments > 0 && spare > queueSpare) {
      queue = worker;
      queueSpare = spare;
    }
    const free = worker.memoryMb - worker.inventory.memoryUsedMb + evictable(worker, key);
    if (free < fn.memorySize) continue;
    // Together first (a worker that already has this version), then the most memory free.
    const score = (environments > 0 ? 1e9 : 0) + free - input.inFlight.total(worker.id) * fn.memorySize;
    if (score > coldScore) {
      cold = worker;
      coldScore = score;
    }
  }
  return warm ?? cold ?? queue;
}

/** Memory of a worker's idle environments of other versions, which it would shut down to make room. */
function evictable(worker: WorkerView, except: string): number {
  let mb = 0;
  for (const [key, pool] of Object.entries(worker.inventory.pools)) {
    if (key !== except) mb += Math.max(0, pool.idle - pool.provisionedReady) * pool.memoryMb;
  }
  return mb;
}
