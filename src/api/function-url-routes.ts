import { ensureObject, type FunctionUrls } from '../control-plane/index.js';
import { readJson, sendJson } from './http-io.js';
import { onFunction } from './route-access.js';
import type { Router } from './router.js';

const URL_CONFIG = /^\/2021-10-31\/functions\/([^/]+)\/url\/?$/;
const URLS = /^\/2021-10-31\/functions\/([^/]+)\/urls\/?$/;
/** AuthType and Cors: a few KB at Cors' largest (200 headers of 1 KB is the model's ceiling). */
const LIMIT = 512 * 1024;

/** Create / Get / Update / Delete / ListFunctionUrlConfigs (paths and statuses from the AWS SDK model). */
export function functionUrlRoutes(router: Router, urls: FunctionUrls): void {
  router
    .on('POST', URL_CONFIG, onFunction('lambda:CreateFunctionUrlConfig', { qualified: true }), async ({ req, res, params, query, requestId, caller }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'CreateFunctionUrlConfig'));
      sendJson(res, 201, await urls.create(caller.accountId, params[0]!, query.get('Qualifier'), body), requestId);
    })
    .on('GET', URL_CONFIG, onFunction('lambda:GetFunctionUrlConfig', { qualified: true }), async ({ res, params, query, requestId, caller }) => {
      sendJson(res, 200, await urls.get(caller.accountId, params[0]!, query.get('Qualifier')), requestId);
    })
    .on('PUT', URL_CONFIG, onFunction('lambda:UpdateFunctionUrlConfig', { qualified: true }), async ({ req, res, params, query, requestId, caller }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'UpdateFunctionUrlConfig'));
      sendJson(res, 200, await urls.update(caller.accountId, params[0]!, query.get('Qualifier'), body), requestId);
    })
    .on('DELETE', URL_CONFIG, onFunction('lambda:DeleteFunctionUrlConfig', { qualified: true }), async ({ res, params, query, requestId, caller }) => {
      await urls.delete(caller.accountId, params[0]!, query.get('Qualifier'));
      sendJson(res, 204, undefined, requestId);
    })
    .on('GET', URLS, onFunction('lambda:ListFunctionUrlConfigs'), async ({ res, params, query, requestId, caller }) => {
      sendJson(res, 200, await urls.list(caller.accountId, params[0]!, query.get('Marker'), query.get('MaxItems')), requestId);
    });
}
