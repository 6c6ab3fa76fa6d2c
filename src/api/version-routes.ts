import { ensureObject, toConfiguration, type Aliases, type FunctionVersions } from '../control-plane/index.js';
import { ValidationException, type Partition } from '../shared/index.js';
import { readJson, sendJson } from './http-io.js';
import { onFunction } from './route-access.js';
import type { Router } from './router.js';

const BASE = '^/2015-03-31/functions/([^/]+)';
const LIMIT = 256 * 1024;

export interface VersionRoutesDeps {
  versions: FunctionVersions;
  aliases: Aliases;
  partition: Partition;
}

/** Marker / MaxItems paging over a list, the marker being the index of the next item. */
function page<T>(items: readonly T[], marker: string | null, maxItemsRaw: string | null): { items: T[]; next?: string } {
  const maxItems = maxItemsRaw === null ? 50 : Number(maxItemsRaw);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000) {
    throw ValidationException.constraint(maxItemsRaw, 'maxItems', 'Member must have value between 1 and 10000');
  }
  const start = Math.max(0, Number(marker ?? 0) || 0);
  const slice = items.slice(start, start + maxItems);
  return start + maxItems < items.length ? { items: slice, next: String(start + maxItems) } : { items: slice };
}

/** PublishVersion, ListVersionsByFunction and the alias operations. */
export function versionRoutes(router: Router, deps: VersionRoutesDeps): void {
  const { versions, aliases, partition } = deps;
  router
    .on('POST', new RegExp(`${BASE}/versions/?$`), onFunction('lambda:PublishVersion'), async ({ caller, req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'PublishVersion'));
      sendJson(res, 201, toConfiguration(partition, await versions.publish(params[0]!, body, caller.accountId)), requestId);
    })
    .on('GET', new RegExp(`${BASE}/versions/?$`), onFunction('lambda:ListVersionsByFunction'), ({ caller, res, params, query, requestId }) => {
      const { items, next } = page(versions.list(params[0]!, caller.accountId), query.get('Marker'), query.get('MaxItems'));
      // Listed entries are trimmed, and $LATEST's ARN is qualified (test_version_lifecycle).
      const shape = (r: (typeof items)[number]) => toConfiguration(partition, r, { listing: true, arnQualifier: r.version ?? '$LATEST' });
      sendJson(res, 200, { Versions: items.map(shape), ...(next ? { NextMarker: next } : {}) }, requestId);
    })
    .on('POST', new RegExp(`${BASE}/aliases/?$`), onFunction('lambda:CreateAlias'), async ({ caller, req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'CreateAlias'));
      sendJson(res, 201, aliases.toShape(await aliases.create(params[0]!, body, caller.accountId)), requestId);
    })
    .on('GET', new RegExp(`${BASE}/aliases/?$`), onFunction('lambda:ListAliases'), ({ caller, res, params, query, requestId }) => {
      const all = aliases.list(params[0]!, query.get('FunctionVersion'), caller.accountId);
      const { items, next } = page(all, query.get('Marker'), query.get('MaxItems'));
      sendJson(res, 200, { Aliases: items.map((a) => aliases.toShape(a)), ...(next ? { NextMarker: next } : {}) }, requestId);
    })
    .on('GET', new RegExp(`${BASE}/aliases/([^/]+)/?$`), onFunction('lambda:GetAlias'), ({ caller, res, params, requestId }) => {
      sendJson(res, 200, aliases.toShape(aliases.get(params[0]!, params[1]!, caller.accountId)), requestId);
    })
    .on('PUT', new RegExp(`${BASE}/aliases/([^/]+)/?$`), onFunction('lambda:UpdateAlias'), async ({ caller, req, res, params, requestId }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'UpdateAlias'));
      sendJson(res, 200, aliases.toShape(await aliases.update(params[0]!, params[1]!, body, caller.accountId)), requestId);
    })
    .on('DELETE', new RegExp(`${BASE}/aliases/([^/]+)/?$`), onFunction('lambda:DeleteAlias'), async ({ caller, res, params, requestId }) => {
      await aliases.delete(params[0]!, params[1]!, caller.accountId);
      sendJson(res, 204, undefined, requestId);
    });
}
