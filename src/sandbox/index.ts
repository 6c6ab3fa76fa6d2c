export { ProcessSandboxDriver } from './process/process-sandbox.js';
export type { Sandbox, SandboxDriver, SandboxExit, SandboxSpec, SandboxStats } from './sandbox.js';
