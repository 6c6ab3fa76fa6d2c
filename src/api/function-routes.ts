import { pipeline } from 'node:stream/promises';
import type { CodeStore } from '../code/index.js';
import {
  ensureObject,
  imageCodeLocation,
  toConfiguration,
  type Aliases,
  type ConcurrencySettings,
  type FunctionRegistry,
  type FunctionVersions,
} from '../control-plane/index.js';
import type { FunctionRecord } from '../store/index.js';
import { bareName, ResourceNotFoundException, ValidationException, type Partition } from '../shared/index.js';
import { readJson, sendJson } from './http-io.js';
import { onAny, onFunction, onNewFunction, publicUrl } from './route-access.js';
import type { Router } from './router.js';

/** Lambda's limit on the CreateFunction / UpdateFunctionCode request (a 50 MB zip, base64 in JSON). */
export const CODE_REQUEST_LIMIT = 70_167_211;
const CONFIG_REQUEST_LIMIT = 1024 * 1024;

const FN = '([^/]+)';
const BASE = '^/2015-03-31/functions';

export interface FunctionRoutesDeps {
  registry: FunctionRegistry;
  versions: FunctionVersions;
  aliases: Aliases;
  concurrency: ConcurrencySettings;
  code: CodeStore;
  partition: Partition;
}

/** The control plane's function operations (rest-json, paths from the AWS SDK model). */
export function functionRoutes(router: Router, deps: FunctionRoutesDeps): void {
  const { registry, partition } = deps;
  const config = (record: FunctionRecord) => toConfiguration(partition, record);
  /** The record a (qualified) name names, shaped with the qualifier named in its FunctionArn, as Lambda does. */
  const lookup = (ref: string, qualifierParam: string | null, account: string) => {
    const { name, qualifier } = deps.versions.target(ref, qualifierParam, account);
    registry.getByName(name);
    const record = deps.aliases.lookup(name, qualifier);
    return { record, configuration: toConfiguration(partition, record, qualifier === undefined ? {} : { arnQualifier: qualifier }) };
  };

  router
    .on('POST', new RegExp(`${BASE}/?$`), onNewFunction('lambda:CreateFunction'), async ({ caller, req, res, requestId }) => {
      const body = ensureObject(await readJson(req, CODE_REQUEST_LIMIT, 'CreateFunction'));
      const record = await registry.create(body, caller.accountId);
      // Create and update answers say Pending / InProgress (Lambda's words), but go out only once the
      // function has settled (Active / Successful) in the store and in this server's cache: the
      // caller's next call here finds it so, however long the store takes to answer (registry.settled).
      if (body['Publish'] === true) {
        // Lambda publishes version 1 in the same call and answers $LATEST's shape (unqualified
        // ARN, State Pending) with that version's number (test_publish_version_on_create).
        const version = await deps.versions.publishWithUpdate(record.name);
        await registry.settled(record.name);
        sendJson(res, 201, { ...config(record), Version: version.version }, requestId);
        return;
      }
      await registry.settled(record.name);
      sendJson(res, 201, config(record), requestId);
    })
    .on('GET', new RegExp(`${BASE}/?$`), onAny('lambda:ListFunctions'), ({ caller, res, query, requestId }) => {
      const maxItems = parseMaxItems(query.get('MaxItems'));
      const marker = query.get('Marker');
      const functionVersion = query.get('FunctionVersion');
      if (functionVersion !== null && functionVersion !== 'ALL') {
        throw ValidationException.constraint(functionVersion, 'functionVersion', 'Member must satisfy enum value set: [ALL]');
      }
      // FunctionVersion=ALL lists every published version too, after each $LATEST (then named `:$LATEST`).
      const everyVersion = functionVersion === 'ALL';
      const all = everyVersion ? registry.list(caller.accountId).flatMap((fn) => deps.versions.listByName(fn.name)) : registry.list(caller.accountId);
      let start = 0;
      if (marker) {
        start = all.findIndex((fn) => markerOf(fn) > marker);
        if (start === -1) start = all.length;
      }
      const page = all.slice(start, start + maxItems);
      const more = start + maxItems < all.length;
      sendJson(
        res,
        200,
        {
          Functions: page.map((fn) =>
            toConfiguration(partition, fn, { listing: true, ...(everyVersion && fn.version === undefined ? { arnQualifier: '$LATEST' } : {}) }),
          ),
          ...(more ? { NextMarker: markerOf(page[page.length - 1]!) } : {}),
        },
        requestId,
      );
    })
    .on('GET', new RegExp(`${BASE}/${FN}/?$`), onFunction('lambda:GetFunction', { qualified: true }), ({ caller, req, res, params, query, requestId }) => {
      const { record, configuration } = lookup(params[0]!, query.get('Qualifier'), caller.accountId);
      const location = `http://${req.headers.host ?? '127.0.0.1'}/kindling/code/${record.codeKey}.zip`;
      const reserved = deps.concurrency.reserved(record.name);
      // Lambda leaves Tags out when there are none, and sends Concurrency once it is set.
      const tags = registry.getByName(record.name).tags;
      sendJson(
        res,
        200,
        {
          Configuration: configuration,
          Code: record.packageType === 'Image' ? imageCodeLocation(record) : { RepositoryType: 'S3', Location: location },
          ...(Object.keys(tags).length > 0 ? { Tags: tags } : {}),
          ...(reserved === undefined ? {} : { Concurrency: { ReservedConcurrentExecutions: reserved } }),
        },
        requestId,
      );
    })
    .on('GET', new RegExp(`${BASE}/${FN}/configuration/?$`), onFunction('lambda:GetFunctionConfiguration', { qualified: true }), ({ caller, res, params, query, requestId }) => {
      sendJson(res, 200, lookup(params[0]!, query.get('Qualifier'), caller.accountId).configuration, requestId);
    })
    .on('PUT', new RegExp(`${BASE}/${FN}/configuration/?$`), onFunction('lambda:UpdateFunctionConfiguration'), async ({ caller, req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, CONFIG_REQUEST_LIMIT, 'UpdateFunctionConfiguration'));
      const record = await registry.updateConfiguration(params[0]!, body, caller.accountId);
      await registry.settled(record.name);
      sendJson(res, 200, config(record), requestId);
    })
    .on('PUT', new RegExp(`${BASE}/${FN}/code/?$`), onFunction('lambda:UpdateFunctionCode'), async ({ caller, req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, CODE_REQUEST_LIMIT, 'UpdateFunctionCode'));
      const record = await registry.updateCode(params[0]!, body, caller.accountId);
      if (body['DryRun'] === true) {
        sendJson(res, 200, config(record), requestId);
        return;
      }
      if (body['Publish'] === true) {
        // Lambda answers with the version it publishes, still being created (test_publish_with_update).
        const version = await deps.versions.publishWithUpdate(record.name);
        await registry.settled(record.name);
        sendJson(res, 200, toConfiguration(partition, version, { creating: true }), requestId);
        return;
      }
      await registry.settled(record.name);
      sendJson(res, 200, config(record), requestId);
    })
    .on('DELETE', new RegExp(`${BASE}/${FN}/?$`), onFunction('lambda:DeleteFunction', { qualified: true }), async ({ caller, res, params, query, requestId }) => {
      const { name, qualifier } = deps.versions.target(params[0]!, query.get('Qualifier'), caller.accountId);
      if (qualifier === undefined) await registry.delete(name);
      else await deps.versions.delete(name, qualifier);
      sendJson(res, 204, undefined, requestId);
    })
    // Code.Location of GetFunction: the zip itself, from the same server.
    // Streamed from the blob store, which every server shares: any server answers for any function.
    .on('GET', /^\/kindling\/code\/([0-9a-f]{64})\.zip$/, publicUrl('kindling:GetFunctionCode'), async ({ res, params, requestId }) => {
      const key = params[0]!;
      const zip = await deps.code.readZip(key);
      if (!zip) throw new ResourceNotFoundException(`Code not found: ${key}`);
      res.writeHead(200, { 'Content-Type': 'application/zip', 'X-Amzn-RequestId': requestId });
      await pipeline(zip, res);
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

/** A paging marker that sorts as the listing does: name, then version ($LATEST first). */
function markerOf(fn: FunctionRecord): string {
  const version = fn.version === undefined || fn.version === '$LATEST' ? '' : fn.version.padStart(10, '0');
  return `${bareName(fn.name)}:${version}`;
}
