import { createReadStream } from 'node:fs';
import type { CodeStore } from '../code/index.js';
import { ensureObject, toConfiguration, type FunctionRegistry } from '../control-plane/index.js';
import { ResourceNotFoundException, ValidationException, type Partition } from '../shared/index.js';
import { readJson, sendJson } from './http-io.js';
import type { Router } from './router.js';

/** Lambda's limit on the CreateFunction / UpdateFunctionCode request (a 50 MB zip, base64 in JSON). */
export const CODE_REQUEST_LIMIT = 70_167_211;
const CONFIG_REQUEST_LIMIT = 1024 * 1024;

const FN = '([^/]+)';
const BASE = '^/2015-03-31/functions';

export interface FunctionRoutesDeps {
  registry: FunctionRegistry;
  code: CodeStore;
  partition: Partition;
}

/** The control plane's function operations (rest-json, paths from the AWS SDK model). */
export function functionRoutes(router: Router, deps: FunctionRoutesDeps): void {
  const { registry, partition } = deps;
  const config = (record: Parameters<typeof toConfiguration>[1]) => toConfiguration(partition, record);

  router
    .on('POST', new RegExp(`${BASE}/?$`), async ({ req, res, requestId }) => {
      const body = ensureObject(await readJson(req, CODE_REQUEST_LIMIT, 'CreateFunction'));
      const record = await registry.create(body);
      sendJson(res, 201, config(record), requestId);
    })
    .on('GET', new RegExp(`${BASE}/?$`), ({ res, query, requestId }) => {
      const maxItems = parseMaxItems(query.get('MaxItems'));
      const marker = query.get('Marker');
      const all = registry.list();
      let start = 0;
      if (marker) {
        start = all.findIndex((fn) => fn.name > marker);
        if (start === -1) start = all.length;
      }
      const page = all.slice(start, start + maxItems);
      const more = start + maxItems < all.length;
      sendJson(
        res,
        200,
        { Functions: page.map(config), ...(more ? { NextMarker: page[page.length - 1]!.name } : {}) },
        requestId,
      );
    })
    .on('GET', new RegExp(`${BASE}/${FN}/?$`), ({ req, res, params, query, requestId }) => {
      const record = registry.get(params[0]!);
      checkLatest(query.get('Qualifier'), params[0]!, partition);
      const location = `http://${req.headers.host ?? '127.0.0.1'}/kindling/code/${record.codeKey}.zip`;
      sendJson(
        res,
        200,
        { Configuration: config(record), Code: { RepositoryType: 'S3', Location: location }, Tags: record.tags },
        requestId,
      );
    })
    .on('GET', new RegExp(`${BASE}/${FN}/configuration/?$`), ({ res, params, query, requestId }) => {
      const record = registry.get(params[0]!);
      checkLatest(query.get('Qualifier'), params[0]!, partition);
      sendJson(res, 200, config(record), requestId);
    })
    .on('PUT', new RegExp(`${BASE}/${FN}/configuration/?$`), async ({ req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, CONFIG_REQUEST_LIMIT, 'UpdateFunctionConfiguration'));
      sendJson(res, 200, config(registry.updateConfiguration(params[0]!, body)), requestId);
    })
    .on('PUT', new RegExp(`${BASE}/${FN}/code/?$`), async ({ req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, CODE_REQUEST_LIMIT, 'UpdateFunctionCode'));
      sendJson(res, 200, config(await registry.updateCode(params[0]!, body)), requestId);
    })
    .on('DELETE', new RegExp(`${BASE}/${FN}/?$`), ({ res, params, query, requestId }) => {
      const qualifier = query.get('Qualifier');
      registry.delete(qualifier ? `${params[0]!}:${qualifier}` : params[0]!);
      sendJson(res, 204, undefined, requestId);
    })
    // Code.Location of GetFunction: the zip itself, from the same server.
    .on('GET', /^\/kindling\/code\/([0-9a-f]{64})\.zip$/, ({ res, params, requestId }) => {
      const key = params[0]!;
      if (!registry.list().some((fn) => fn.codeKey === key)) {
        throw new ResourceNotFoundException(`Code not found: ${key}`);
      }
      res.writeHead(200, { 'Content-Type': 'application/zip', 'X-Amzn-RequestId': requestId });
      createReadStream(deps.code.blobPath(key)).pipe(res);
    });
}

function parseMaxItems(raw: string | null): number {
  if (raw === null) return 50;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 10_000) {
    throw ValidationException.constraint(raw, 'maxItems', 'Member must have value between 1 and 10000');
  }
  return value;
}

/** Until versions exist (a later issue), `$LATEST` is the only qualifier there is. */
function checkLatest(qualifier: string | null, name: string, partition: Partition): void {
  if (qualifier !== null && qualifier !== '$LATEST') {
    throw new ResourceNotFoundException(
      `Function not found: arn:aws:lambda:${partition.region}:${partition.accountId}:function:${name}:${qualifier}`,
    );
  }
}

