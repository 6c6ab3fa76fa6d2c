import type { ProvisionedConcurrency } from '../invoke/index.js';
import { readJson, sendJson } from './http-io.js';
import { onFunction } from './route-access.js';
import type { Router } from './router.js';

const PATH = /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency\/?$/;

/** Put (202) / Get / Delete (204) ProvisionedConcurrencyConfig and the List (`?List=ALL`) form. */
export function provisionedRoutes(router: Router, provisioned: ProvisionedConcurrency): void {
  router
    .on('PUT', PATH, onFunction('lambda:PutProvisionedConcurrencyConfig', { qualified: true }), async ({ caller, req, res, params, query, requestId }) => {
      const body = await readJson(req, 64 * 1024, 'PutProvisionedConcurrencyConfig');
      sendJson(res, 202, await provisioned.put(params[0]!, query.get('Qualifier'), body['ProvisionedConcurrentExecutions'], caller.accountId), requestId);
    })
    .on('GET', PATH, onFunction('lambda:GetProvisionedConcurrencyConfig', { qualified: true }), ({ caller, res, params, query, requestId }) => {
      if (query.get('List') === 'ALL') {
        sendJson(res, 200, { ProvisionedConcurrencyConfigs: provisioned.list(params[0]!, caller.accountId) }, requestId);
        return;
      }
      sendJson(res, 200, provisioned.get(params[0]!, query.get('Qualifier'), caller.accountId), requestId);
    })
    .on('DELETE', PATH, onFunction('lambda:DeleteProvisionedConcurrencyConfig', { qualified: true }), async ({ caller, res, params, query, requestId }) => {
      await provisioned.delete(params[0]!, query.get('Qualifier'), caller.accountId);
      sendJson(res, 204, undefined, requestId);
    });
}
