import type { Roles } from '../identity/index.js';
import { MalformedPolicyDocumentException } from '../shared/index.js';
import { readJson, sendJson } from './http-io.js';
import { KINDLING_SERVICES } from './route-access.js';
import type { RouteAccess, Router } from './router.js';

/** IAM's limit is 10,240 characters of policy; the request carries it inside JSON. */
const POLICY_REQUEST_LIMIT = 64 * 1024;
const ROLE = '([^/]+)';

/** IAM's action on the role the path names, in the caller's account (roles are never shared across accounts). */
function onRole(action: string): RouteAccess {
  return { action, resource: (ctx) => `arn:aws:iam::${ctx.caller.accountId}:role/${ctx.params[0] ?? '*'}`, services: KINDLING_SERVICES };
}

/**
 * Functions' execution roles under `/kindling/roles/` (IAM's PutRolePolicy, GetRolePolicy,
 * DeleteRolePolicy and ListRoles, in the caller's account): what the credentials a function gets
 * for its `Role` may do.
 */
export function roleRoutes(router: Router, roles: Roles): void {
  router
    .on('GET', /^\/kindling\/roles\/?$/, onRole('iam:ListRoles'), async ({ res, requestId, caller }) => {
      sendJson(res, 200, { Roles: await roles.list(caller.accountId) }, requestId);
    })
    .on('PUT', new RegExp(`^/kindling/roles/${ROLE}/policies/${ROLE}/?$`), onRole('iam:PutRolePolicy'), async ({ req, res, params, requestId, caller }) => {
      const body = await readJson(req, POLICY_REQUEST_LIMIT, 'PutRolePolicy');
      const document = body['PolicyDocument'];
      if (typeof document !== 'string') throw new MalformedPolicyDocumentException('PolicyDocument must be the policy as a JSON string.');
      await roles.putPolicy(caller.accountId, params[0]!, params[1]!, document);
      sendJson(res, 200, {}, requestId);
    })
    .on('GET', new RegExp(`^/kindling/roles/${ROLE}/policies/${ROLE}/?$`), onRole('iam:GetRolePolicy'), async ({ res, params, requestId, caller }) => {
      sendJson(res, 200, await roles.getPolicy(caller.accountId, params[0]!, params[1]!), requestId);
    })
    .on('DELETE', new RegExp(`^/kindling/roles/${ROLE}/policies/${ROLE}/?$`), onRole('iam:DeleteRolePolicy'), async ({ res, params, requestId, caller }) => {
      await roles.deletePolicy(caller.accountId, params[0]!, params[1]!);
      sendJson(res, 200, {}, requestId);
    });
}
