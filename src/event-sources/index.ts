export { UrlServer } from './function-urls/url-server.js';
export type { UrlDirectory, UrlServerDeps, UrlTarget } from './function-urls/url-server.js';
export type { UrlCors } from './function-urls/url-cors.js';
