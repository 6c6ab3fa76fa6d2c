import type { EventInvokeConfigs } from '../control-plane/index.js';
import { ValidationException } from '../shared/index.js';
import { readJson, sendJson } from './http-io.js';
import { onFunction } from './route-access.js';
import type { Router } from './router.js';

const PATH = '^/2019-09-25/functions/([^/]+)/event-invoke-config';
const LIMIT = 256 * 1024;

/** Put / Update / Get / Delete / List FunctionEventInvokeConfig (Update is POST, as in the model). */
export function eventConfigRoutes(router: Router, configs: EventInvokeConfigs): void {
  router
    .on('PUT', new RegExp(`${PATH}/?$`), onFunction('lambda:PutFunctionEventInvokeConfig', { qualified: true }), async ({ caller, req, res, params, query, requestId }) => {
      const body = await readJson(req, LIMIT, 'PutFunctionEventInvokeConfig');
      sendJson(res, 200, configs.toShape(await configs.put(params[0]!, query.get('Qualifier'), body, caller.accountId)), requestId);
    })
    .on('POST', new RegExp(`${PATH}/?$`), onFunction('lambda:UpdateFunctionEventInvokeConfig', { qualified: true }), async ({ caller, req, res, params, query, requestId }) => {
      const body = await readJson(req, LIMIT, 'UpdateFunctionEventInvokeConfig');
      sendJson(res, 200, configs.toShape(await configs.update(params[0]!, query.get('Qualifier'), body, caller.accountId)), requestId);
    })
    .on('GET', new RegExp(`${PATH}/?$`), onFunction('lambda:GetFunctionEventInvokeConfig', { qualified: true }), ({ caller, res, params, query, requestId }) => {
      sendJson(res, 200, configs.toShape(configs.get(params[0]!, query.get('Qualifier'), caller.accountId)), requestId);
    })
    .on('DELETE', new RegExp(`${PATH}/?$`), onFunction('lambda:DeleteFunctionEventInvokeConfig', { qualified: true }), async ({ caller, res, params, query, requestId }) => {
      await configs.delete(params[0]!, query.get('Qualifier'), caller.accountId);
      sendJson(res, 204, undefined, requestId);
    })
    .on('GET', new RegExp(`${PATH}/list/?$`), onFunction('lambda:ListFunctionEventInvokeConfigs'), ({ caller, res, params, query, requestId }) => {
      const maxItems = query.get('MaxItems') === null ? 50 : Number(query.get('MaxItems'));
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 50) {
        throw ValidationException.constraint(query.get('MaxItems'), 'maxItems', 'Member must have value between 1 and 50');
      }
      const all = configs.list(params[0]!, caller.accountId);
      const start = Math.max(0, Number(query.get('Marker') ?? 0) || 0);
      const page = all.slice(start, start + maxItems);
      const more = start + maxItems < all.length;
      sendJson(
        res,
        200,
        { FunctionEventInvokeConfigs: page.map((record) => configs.toShape(record)), ...(more ? { NextMarker: String(start + maxItems) } : {}) },
        requestId,
      );
    });
}
