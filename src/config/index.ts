export { loadConfig, ConfigError, DEFAULTS } from './config.js';
export type { KindlingConfig } from './config.js';
