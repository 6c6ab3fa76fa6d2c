import type { ConcurrencySettings, FunctionRegistry, FunctionVersions, LayerRegistry } from '../control-plane/index.js';
import { readJson, sendJson } from './http-io.js';
import { onAny, onFunction } from './route-access.js';
import type { Router } from './router.js';

export interface ConcurrencyRoutesDeps {
  registry: FunctionRegistry;
  versions: FunctionVersions;
  layers: LayerRegistry;
  concurrency: ConcurrencySettings;
}

/** Lambda's code size quotas, as GetAccountSettings reports them. */
const CODE_LIMITS = { TotalCodeSize: 80_530_636_800, CodeSizeUnzipped: 262_144_000, CodeSizeZipped: 52_428_800 } as const;

/** Put / Get / DeleteFunctionConcurrency and GetAccountSettings. */
export function concurrencyRoutes(router: Router, deps: ConcurrencyRoutesDeps): void {
  const { concurrency, registry } = deps;
  router
    .on('PUT', /^\/2017-10-31\/functions\/([^/]+)\/concurrency\/?$/, onFunction('lambda:PutFunctionConcurrency'), async ({ caller, req, res, params, requestId }) => {
      const body = await readJson(req, 64 * 1024, 'PutFunctionConcurrency');
      sendJson(res, 200, { ReservedConcurrentExecutions: await concurrency.put(params[0]!, body['ReservedConcurrentExecutions'], caller.accountId) }, requestId);
    })
    .on('GET', /^\/2019-09-30\/functions\/([^/]+)\/concurrency\/?$/, onFunction('lambda:GetFunctionConcurrency'), ({ caller, res, params, requestId }) => {
      const reserved = concurrency.get(params[0]!, caller.accountId);
      sendJson(res, 200, reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved }, requestId);
    })
    .on('DELETE', /^\/2017-10-31\/functions\/([^/]+)\/concurrency\/?$/, onFunction('lambda:DeleteFunctionConcurrency'), async ({ caller, res, params, requestId }) => {
      await concurrency.delete(params[0]!, caller.accountId);
      sendJson(res, 204, undefined, requestId);
    })
    .on('GET', /^\/2016-08-19\/account-settings\/?$/, onAny('lambda:GetAccountSettings'), async ({ caller, res, requestId }) => {
      const layerCodeSize = await deps.layers.totalCodeSize(caller.accountId);
      const functions = registry.list(caller.accountId);
      // Lambda's TotalCodeSize counts every stored package: $LATEST, each published version, each layer version.
      const totalCodeSize =
        functions.reduce((sum, fn) => sum + fn.codeSize, 0) + deps.versions.totalCodeSize(caller.accountId) + layerCodeSize;
      sendJson(
        res,
        200,
        {
          AccountLimit: {
            ...CODE_LIMITS,
            ConcurrentExecutions: concurrency.limits.accountConcurrency,
            UnreservedConcurrentExecutions: concurrency.limits.accountConcurrency - concurrency.totalReserved(caller.accountId),
          },
          AccountUsage: { TotalCodeSize: totalCodeSize, FunctionCount: functions.length },
        },
        requestId,
      );
    });
}
