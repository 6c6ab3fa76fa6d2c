export { InvokeService } from './invoke-service.js';
export type { InvokeInput, InvokeOutput } from './invoke-service.js';
export { ConcurrencyLimiter } from './concurrency-limiter.js';
export { ProvisionedConcurrency } from './provisioned-concurrency.js';
