import { ensureObject, type Permissions } from '../control-plane/index.js';
import { readJson, sendJson } from './http-io.js';
import { onFunction, onLayer } from './route-access.js';
import type { Router } from './router.js';

const FUNCTION_POLICY = '^/2015-03-31/functions/([^/]+)/policy';
const LAYER_POLICY = '^/2018-10-31/layers/([^/]+)/versions/([^/]+)/policy';
/** A policy statement is small; Lambda's whole policy is 20 KB. */
const LIMIT = 64 * 1024;

/** Resource policies of functions, versions, aliases and layer versions (paths from the AWS SDK model). */
export function policyRoutes(router: Router, permissions: Permissions): void {
  router
    .on('POST', new RegExp(`${FUNCTION_POLICY}/?$`), onFunction('lambda:AddPermission', { qualified: true }), async ({ req, res, params, query, requestId, caller }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'AddPermission'));
      sendJson(res, 201, await permissions.addToFunction(caller, params[0]!, query.get('Qualifier'), body), requestId);
    })
    .on('GET', new RegExp(`${FUNCTION_POLICY}/?$`), onFunction('lambda:GetPolicy', { qualified: true }), async ({ res, params, query, requestId, caller }) => {
      sendJson(res, 200, await permissions.functionPolicy(caller, params[0]!, query.get('Qualifier')), requestId);
    })
    .on('DELETE', new RegExp(`${FUNCTION_POLICY}/([^/]+)/?$`), onFunction('lambda:RemovePermission', { qualified: true }), async ({ res, params, query, requestId, caller }) => {
      await permissions.removeFromFunction(caller, params[0]!, query.get('Qualifier'), params[1]!, query.get('RevisionId'));
      sendJson(res, 204, undefined, requestId);
    })
    .on('POST', new RegExp(`${LAYER_POLICY}/?$`), onLayer('lambda:AddLayerVersionPermission', true), async ({ req, res, params, query, requestId, caller }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'AddLayerVersionPermission'));
      sendJson(res, 201, await permissions.addToLayerVersion(caller, params[0]!, params[1]!, body, query.get('RevisionId')), requestId);
    })
    .on('GET', new RegExp(`${LAYER_POLICY}/?$`), onLayer('lambda:GetLayerVersionPolicy', true), async ({ res, params, requestId, caller }) => {
      sendJson(res, 200, await permissions.layerVersionPolicy(caller, params[0]!, params[1]!), requestId);
    })
    .on('DELETE', new RegExp(`${LAYER_POLICY}/([^/]+)/?$`), onLayer('lambda:RemoveLayerVersionPermission', true), async ({ res, params, query, requestId, caller }) => {
      await permissions.removeFromLayerVersion(caller, params[0]!, params[1]!, params[2]!, query.get('RevisionId'));
      sendJson(res, 204, undefined, requestId);
    });
}
