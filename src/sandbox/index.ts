export { ProcessSandboxDriver } from './process/process-sandbox.js';
export { LAMBDA_PATHS } from './sandbox.js';
export type { PathView, Sandbox, SandboxDriver, SandboxExit, SandboxSpec, SandboxStats } from './sandbox.js';
export { SandboxSelection, SANDBOX_TAG, NETWORK_TAG, NETWORK_TAG_VALUES } from './driver-selection.js';
export { ApiBridge } from './api-bridge.js';
export { selectSandboxes } from './available-drivers.js';
export type { SandboxOptions } from './available-drivers.js';
