export { ApiServer } from './api-server.js';
export type { ApiDeps } from './api-server.js';
