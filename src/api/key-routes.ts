import { parsePolicyDocument, type AccessKeyInfo, type AccessKeys, type Caller, type PolicyDocument } from '../identity/index.js';
import { AccessDeniedException, InvalidParameterValueException, ResourceNotFoundException } from '../shared/index.js';
import { readJson, sendJson } from './http-io.js';
import { KINDLING_SERVICES, onAny } from './route-access.js';
import type { Router } from './router.js';

const REQUEST_LIMIT = 256 * 1024;
const USER_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * Kindling's keys API (`kindling keys`): `POST /kindling/keys`, `GET /kindling/keys`,
 * `DELETE /kindling/keys/{AccessKeyId}`. Only an account's administrator manages its keys, and only
 * the default account's administrator those of other accounts.
 */
export function keyRoutes(router: Router, deps: { keys: AccessKeys; defaultAccountId: string }): void {
  const { keys, defaultAccountId } = deps;
  const mayManage = (caller: Caller, accountId: string) =>
    caller.policies === 'all' && (caller.accountId === accountId || caller.accountId === defaultAccountId);
  const deny = (caller: Caller, action: string, resource: string) =>
    new AccessDeniedException(`User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} because only an account's administrator key may manage its keys`);

  router
    .on('POST', /^\/kindling\/keys\/?$/, onAny('kindling:CreateAccessKey', KINDLING_SERVICES), async ({ req, res, requestId, caller }) => {
      const body = await readJson(req, REQUEST_LIMIT, 'CreateAccessKey');
      const accountId = optionalString(body, 'AccountId') ?? caller.accountId;
      if (!/^\d{12}$/.test(accountId)) throw new InvalidParameterValueException(`AccountId must be 12 digits, got '${accountId}'`);
      const userName = optionalString(body, 'UserName') ?? (body['Admin'] === true ? 'admin' : 'kindling-user');
      if (!USER_NAME.test(userName)) throw new InvalidParameterValueException(`UserName must be 1 to 64 letters, digits or +=,.@_-, got '${userName}'`);
      const admin = body['Admin'] === true;
      const policies = policyList(body['Policies']);
      if (!admin && policies.length === 0) throw new InvalidParameterValueException('A key needs Admin or at least one policy in Policies');
      if (!mayManage(caller, accountId)) throw deny(caller, 'kindling:CreateAccessKey', `arn:aws:iam::${accountId}:user/${userName}`);
      const created = await keys.create({ accountId, userName, admin, policies: admin ? [] : policies });
      sendJson(res, 201, { ...shape(created), SecretAccessKey: created.secretAccessKey }, requestId);
    })
    .on('GET', /^\/kindling\/keys\/?$/, onAny('kindling:ListAccessKeys', KINDLING_SERVICES), async ({ res, query, requestId, caller }) => {
      const accountId = query.get('AccountId') ?? caller.accountId;
      if (!mayManage(caller, accountId)) throw deny(caller, 'kindling:ListAccessKeys', `arn:aws:iam::${accountId}:user/*`);
      sendJson(res, 200, { Keys: (await keys.list(accountId)).map(shape) }, requestId);
    })
    .on('DELETE', /^\/kindling\/keys\/([^/]+)\/?$/, onAny('kindling:DeleteAccessKey', KINDLING_SERVICES), async ({ res, params, requestId, caller }) => {
      const id = params[0]!;
      const key = await keys.get(id);
      // Another account's key is not there, as far as this caller can tell.
      if (!key || !mayManage(caller, key.accountId)) {
        if (key || caller.policies === 'all') throw new ResourceNotFoundException(`The Access Key with id ${id} cannot be found.`);
        throw deny(caller, 'kindling:DeleteAccessKey', `arn:aws:iam::${caller.accountId}:user/*`);
      }
      await keys.remove(id);
      sendJson(res, 204, undefined, requestId);
    });
}

function shape(key: AccessKeyInfo) {
  return {
    AccessKeyId: key.accessKeyId,
    AccountId: key.accountId,
    UserName: key.userName,
    Admin: key.admin,
    Policies: key.policies,
    CreatedAt: new Date(key.createdAt).toISOString(),
  };
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidParameterValueException(`${name} must be a string`);
  return value;
}

function policyList(value: unknown): PolicyDocument[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidParameterValueException('Policies must be a list of policy documents');
  return value.map((doc) => parsePolicyDocument(doc));
}
