export { NodeDirectory, DIRECTORY_DEFAULTS } from './node-directory.js';
export type { WorkerView, DirectoryOptions } from './node-directory.js';
export { NodeAgent, HEARTBEAT_MS } from './node-agent.js';
export { choose, poolKey, InFlight } from './placement.js';
export type { PlacementInput } from './placement.js';
export { RemoteRunner } from './remote-runner.js';
export { ProvisionedShare } from './provisioned-share.js';
export { WorkerClient } from './worker-client.js';
export type { WorkerClientOptions, WorkerInvokeOptions } from './worker-client.js';
