export { WorkerFleet } from './worker-fleet.js';
export type { FleetOptions } from './worker-fleet.js';
export type { EnvironmentDeps } from './execution-environment.js';
export type { PoolOptions } from './environment-pool.js';
export type { InvokeRequest, InvokeResult, Runner } from './invoke-types.js';
export { WorkerLease } from './worker-lease.js';
export { MemoryBudget } from './memory-budget.js';
export { WorkerServer, WORKER_KEEP_ALIVE_MS } from './worker-server.js';
export type { WorkerServerOptions, WorkerRunner } from './worker-server.js';
