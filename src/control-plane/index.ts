export { FunctionRegistry } from './function-registry.js';
export type { FunctionChange, RegistryDeps } from './function-registry.js';
export { toConfiguration } from './function-shape.js';
export { SUPPORTED_RUNTIMES } from './runtimes.js';
export type { RuntimeInfo } from './runtimes.js';
export { LIMITS, ensureObject } from './validation.js';
export { EventInvokeConfigs } from './event-invoke-configs.js';
export type { DestinationCheck } from './event-invoke-configs.js';
