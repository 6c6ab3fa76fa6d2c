export { InvokeService } from './invoke-service.js';
export type { InvokeInput, InvokeOutput } from './invoke-service.js';
export { ConcurrencyLimiter } from './concurrency-limiter.js';
export type { Limiter } from './concurrency-limiter.js';
export { FleetLimiter } from './fleet-limiter.js';
export type { FleetLimiterOptions } from './fleet-limiter.js';
export { ProvisionedConcurrency } from './provisioned-concurrency.js';
