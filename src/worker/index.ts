export { WorkerFleet } from './worker-fleet.js';
export type { FleetOptions } from './worker-fleet.js';
export type { EnvironmentDeps } from './execution-environment.js';
export type { PoolOptions } from './environment-pool.js';
export type { InvokeRequest, InvokeResult } from './invoke-types.js';
