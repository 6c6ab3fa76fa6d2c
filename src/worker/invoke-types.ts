import type { FunctionRecord } from '../store/index.js';

/** What the invoke service asks of an environment. */
export interface InvokeRequest {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly invokedFunctionArn: string;
  /** JSON text of the client context. */
  readonly clientContext?: string;
  /** Keep the invocation's log for X-Amz-Log-Result. */
  readonly tail: boolean;
}

export interface InvokeResult {
  readonly payload: Buffer;
  /** Set when the function failed (Lambda's X-Amz-Function-Error: Unhandled). */
  readonly functionError: boolean;
  /** The invocation's log lines, when `tail` was asked for. */
  readonly log?: string;
  readonly executedVersion: string;
}

/**
 * Where invocations run: this process's WorkerFleet (`--role all`), or the fleet's workers through
 * placement (an `api` or `poller` node). The invoke service and provisioned concurrency see only this.
 */
export interface Runner {
  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult>;
  /** Keeps `count` environments of this version initialised ahead of time (0 to stop). */
  provision(fn: FunctionRecord, count: number): void;
  /** Provisioned environments of this version that are initialised and ready. */
  provisionedReady(fn: FunctionRecord): number;
  /** Retires the environments of one version of a function, or of all its versions. */
  retire(name: string, version?: string): void;
  close(): Promise<void>;
}

/** A worker's environments of one function version, as placement sees them. */
export interface PoolInventory {
  /** The function record's revision the environments run. */
  readonly revisionId: string;
  readonly environments: number;
  readonly idle: number;
  readonly provisionedReady: number;
  /** MemorySize of the function, per environment. */
  readonly memoryMb: number;
}

/** What a worker runs, keyed by `name:version` (heartbeat payload, placement's input). */
export interface WorkerInventory {
  readonly pools: Readonly<Record<string, PoolInventory>>;
  /** Memory its environments take (MemorySize each), in MB. */
  readonly memoryUsedMb: number;
  /** Invocations running on it now. */
  readonly busy: number;
}
