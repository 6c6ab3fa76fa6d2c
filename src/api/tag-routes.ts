import { ensureObject, type FunctionTags } from '../control-plane/index.js';
import { readJson, sendJson } from './http-io.js';
import { onArn } from './route-access.js';
import type { Router } from './router.js';

/** The Resource is an ARN in one path segment (its colons percent-encoded by the SDKs, or not). */
const TAGS = /^\/2017-03-31\/tags\/([^/]+)\/?$/;
const LIMIT = 256 * 1024;

/** TagResource, UntagResource and ListTags (paths from the AWS SDK model). */
export function tagRoutes(router: Router, tags: FunctionTags): void {
  router
    .on('POST', TAGS, onArn('lambda:TagResource'), async ({ req, res, params, requestId, caller }) => {
      const body = ensureObject(await readJson(req, LIMIT, 'TagResource'));
      await tags.tag(caller, params[0]!, body);
      sendJson(res, 204, undefined, requestId);
    })
    .on('GET', TAGS, onArn('lambda:ListTags'), ({ res, params, requestId, caller }) => {
      sendJson(res, 200, tags.list(caller, params[0]!), requestId);
    })
    .on('DELETE', TAGS, onArn('lambda:UntagResource'), async ({ res, params, query, requestId, caller }) => {
      await tags.untag(caller, params[0]!, query.getAll('tagKeys'));
      sendJson(res, 204, undefined, requestId);
    });
}
