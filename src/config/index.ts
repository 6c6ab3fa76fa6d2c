export { loadConfig, ConfigError, DEFAULTS, OPTIONS as SERVE_OPTIONS, redactPassword, isLoopback, authMode } from './config.js';
export type { KindlingConfig, AuthMode } from './config.js';
export { loadClientConfig, CLIENT_DEFAULTS } from './client-config.js';
export type { ClientConfig, ClientFlags, StaticCredentials } from './client-config.js';
export { SANDBOX_DRIVERS, isSandboxDriver, driversAtLeast } from './sandbox-drivers.js';
export type { SandboxDriverName } from './sandbox-drivers.js';
