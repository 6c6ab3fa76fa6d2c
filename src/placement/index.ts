export { WorkerClient } from './worker-client.js';
export type { WorkerClientOptions, WorkerInvokeOptions } from './worker-client.js';
