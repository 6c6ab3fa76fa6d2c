import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { CodeStore } from '../code/index.js';
import { ensureObject, type LayerListQuery, type LayerRegistry } from '../control-plane/index.js';
import { ResourceNotFoundException } from '../shared/index.js';
import { CODE_REQUEST_LIMIT } from './function-routes.js';
import { readJson, sendJson } from './http-io.js';
import { onAny, onLayer, publicUrl } from './route-access.js';
import type { Router } from './router.js';

const BASE = '^/2018-10-31/layers';
const NAME = '([^/]+)';
const ZIP_PATH = '/kindling/layers/';

/** The layer operations (rest-json, paths and status codes from the AWS SDK model). */
export function layerRoutes(router: Router, deps: { layers: LayerRegistry; code: CodeStore }): void {
  const { layers } = deps;
  // Content.Location: the zip itself, from the same server, as GetFunction's Code.Location.
  const location = (req: IncomingMessage, key: string) => `http://${req.headers.host ?? '127.0.0.1'}${ZIP_PATH}${key}.zip`;
  const listQuery = (query: URLSearchParams): LayerListQuery => ({
    compatibleRuntime: query.get('CompatibleRuntime'),
    compatibleArchitecture: query.get('CompatibleArchitecture'),
    marker: query.get('Marker'),
    maxItems: query.get('MaxItems'),
  });

  router
    .on('POST', new RegExp(`${BASE}/${NAME}/versions/?$`), onLayer('lambda:PublishLayerVersion', false), async ({ caller, req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, CODE_REQUEST_LIMIT, 'PublishLayerVersion'));
      const record = await layers.publish(params[0]!, body, caller.accountId);
      sendJson(res, 201, layers.toShape(record, location(req, record.codeKey)), requestId);
    })
    .on('GET', new RegExp(`${BASE}/${NAME}/versions/?$`), onLayer('lambda:ListLayerVersions', false), async ({ caller, res, params, query, requestId }) => {
      sendJson(res, 200, await layers.listVersions(params[0]!, listQuery(query), caller.accountId), requestId);
    })
    .on('GET', new RegExp(`${BASE}/${NAME}/versions/([^/]+)/?$`), onLayer('lambda:GetLayerVersion', true), async ({ caller, req, res, params, requestId }) => {
      const record = await layers.get(params[0]!, params[1]!, caller.accountId);
      sendJson(res, 200, layers.toShape(record, location(req, record.codeKey)), requestId);
    })
    .on('DELETE', new RegExp(`${BASE}/${NAME}/versions/([^/]+)/?$`), onLayer('lambda:DeleteLayerVersion', true), async ({ caller, res, params, requestId }) => {
      await layers.delete(params[0]!, params[1]!, caller.accountId);
      sendJson(res, 204, undefined, requestId);
    })
    // GetLayerVersionByArn shares ListLayers' path: `?find=LayerVersion&Arn=` tells them apart.
    .on('GET', new RegExp(`${BASE}/?$`), onAny('lambda:ListLayers'), async ({ caller, req, res, query, requestId }) => {
      if (query.get('find') === 'LayerVersion') {
        const record = await layers.getByArn(query.get('Arn'), caller.accountId);
        sendJson(res, 200, layers.toShape(record, location(req, record.codeKey)), requestId);
        return;
      }
      sendJson(res, 200, await layers.listLayers(listQuery(query), caller.accountId), requestId);
    })
    .on('GET', /^\/kindling\/layers\/([0-9a-f]{64})\.zip$/, publicUrl('kindling:GetLayerVersionContent'), async ({ res, params, requestId }) => {
      const key = params[0]!;
      if (!(await layers.hasCode(key))) throw new ResourceNotFoundException(`Layer content not found: ${key}`);
      const zip = await deps.code.readZip(key);
      if (!zip) throw new ResourceNotFoundException(`Layer content not found: ${key}`);
      res.writeHead(200, { 'Content-Type': 'application/zip', 'X-Amzn-RequestId': requestId });
      await pipeline(zip, res);
    });
}
