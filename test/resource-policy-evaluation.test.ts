import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyAllows, ResourcePolicyCache, type ResourcePolicyDocument, type ResourceStatement } from '../src/control-plane/index.js';
import { functionStatement, layerStatement } from '../src/control-plane/policy-statements.js';
import { anonymousCaller, type Caller, type ResourceRequest } from '../src/identity/index.js';
import { silentLogger } from '../src/shared/index.js';
import { SqliteStore } from '../src/store/index.js';

const OWNER = '111111111111';
const OTHER = '222222222222';
const THIRD = '333333333333';
const FN = `arn:aws:lambda:us-east-1:${OWNER}:function:shared`;
const ALIAS = `${FN}:live`;

const user = (account: string, name = 'alice'): Caller => ({ accountId: account, arn: `arn:aws:iam::${account}:user/${name}`, policies: 'all' });
const invoke = (caller: Caller, extra: Partial<ResourceRequest> = {}): ResourceRequest => ({ caller, action: 'lambda:InvokeFunction', ...extra });
const policy = (...statements: ResourceStatement[]): ResourcePolicyDocument => ({ Version: '2012-10-17', Id: 'default', Statement: statements });
const grant = (body: Record<string, unknown>, resource = FN) => functionStatement({ StatementId: 's1', Action: 'lambda:InvokeFunction', ...body }, resource);

describe('the statements AddPermission writes', () => {
  it('writes an account id as its root ARN, a service as Service, * as *', () => {
    assert.deepEqual(grant({ Principal: OTHER }).Principal, { AWS: `arn:aws:iam::${OTHER}:root` });
    assert.deepEqual(grant({ Principal: 's3.amazonaws.com' }).Principal, { Service: 's3.amazonaws.com' });
    assert.equal(grant({ Principal: '*' }).Principal, '*');
    assert.deepEqual(grant({ Principal: `arn:aws:iam::${OTHER}:role/deployer` }).Principal, { AWS: `arn:aws:iam::${OTHER}:role/deployer` });
  });

  it('turns SourceArn, SourceAccount, PrincipalOrgID, EventSourceToken and FunctionUrlAuthType into conditions, in Lambda’s order', () => {
    const statement = grant({
      Principal: 's3.amazonaws.com',
      SourceArn: 'arn:aws:s3:::bucket',
      SourceAccount: OTHER,
      PrincipalOrgID: 'o-abcdefghij',
      EventSourceToken: 'token-1',
      FunctionUrlAuthType: 'NONE',
    });
    assert.deepEqual(statement, {
      Sid: 's1',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: FN,
      Condition: {
        StringEquals: { 'AWS:SourceAccount': OTHER, 'lambda:EventSourceToken': 'token-1', 'aws:PrincipalOrgID': 'o-abcdefghij', 'lambda:FunctionUrlAuthType': 'NONE' },
        ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::bucket' },
      },
    });
    assert.deepEqual(Object.keys(statement.Condition!), ['StringEquals', 'ArnLike']);
  });

  it('refuses what the model refuses, with the member named', () => {
    const refused = (body: Record<string, unknown>, name: string, message: RegExp) =>
      assert.throws(() => functionStatement({ StatementId: 's1', Action: 'lambda:InvokeFunction', Principal: '*', ...body }, FN), (err: Error & { code?: string }) => {
        assert.equal(err.name, name);
        assert.match(err.message, message);
        return true;
      });
    refused({ StatementId: 'has space' }, 'ValidationException', /Value 'has space' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    refused({ StatementId: 'x'.repeat(101) }, 'ValidationException', /at 'statementId' failed to satisfy constraint: Member must have length less than or equal to 100/);
    refused({ StatementId: undefined }, 'ValidationException', /at 'statementId' failed to satisfy constraint: Member must not be null/);
    refused({ Action: 's3:GetObject' }, 'ValidationException', /at 'action' .*\(lambda:\[\*\]\|lambda:\[a-zA-Z\]\+\|\[\*\]\)/);
    refused({ Principal: 'not valid' }, 'ValidationException', /at 'principal'/);
    refused({ Principal: 'nobody' }, 'InvalidParameterValueException', /The provided principal was invalid/);
    refused({ SourceAccount: '12' }, 'ValidationException', /at 'sourceAccount'/);
    refused({ SourceArn: 'not-an-arn' }, 'ValidationException', /at 'sourceArn'/);
    refused({ PrincipalOrgID: 'org-1' }, 'ValidationException', /at 'principalOrgID'/);
    refused({ FunctionUrlAuthType: 'OPEN' }, 'ValidationException', /enum value set: \[NONE, AWS_IAM\]/);
  });

  it('writes layer statements with lambda:GetLayerVersion only, and an organization only for *', () => {
    const arn = `arn:aws:lambda:us-east-1:${OWNER}:layer:lib:1`;
    assert.deepEqual(layerStatement({ StatementId: 'l1', Action: 'lambda:GetLayerVersion', Principal: OTHER }, arn), {
      Sid: 'l1',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${OTHER}:root` },
      Action: 'lambda:GetLayerVersion',
      Resource: arn,
    });
    assert.deepEqual(layerStatement({ StatementId: 'l2', Action: 'lambda:GetLayerVersion', Principal: '*', OrganizationId: 'o-abcdefghij' }, arn).Condition, {
      StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' },
    });
    assert.throws(() => layerStatement({ StatementId: 'l3', Action: 'lambda:InvokeFunction', Principal: '*' }, arn), /at 'action'/);
    assert.throws(() => layerStatement({ StatementId: 'l3', Action: 'lambda:GetLayerVersion', Principal: 's3.amazonaws.com' }, arn), /at 'principal'/);
    assert.throws(() => layerStatement({ StatementId: 'l3', Action: 'lambda:GetLayerVersion', Principal: OTHER, OrganizationId: 'o-abcdefghij' }, arn), /only be specified when Principal is \*/);
  });
});

describe('evaluating a resource policy', () => {
  it('allows the account it names, and no other', () => {
    const p = policy(grant({ Principal: OTHER }));
    assert.equal(policyAllows(p, FN, invoke(user(OTHER))), true);
    assert.equal(policyAllows(p, FN, invoke(user(OTHER, 'bob'))), true, 'every principal of the account');
    assert.equal(policyAllows(p, FN, invoke(anonymousCaller(OTHER))), true);
    assert.equal(policyAllows(p, FN, invoke(user(THIRD))), false);
  });

  it('allows one user by ARN, not the rest of the account', () => {
    const p = policy(grant({ Principal: `arn:aws:iam::${OTHER}:user/alice` }));
    assert.equal(policyAllows(p, FN, invoke(user(OTHER, 'alice'))), true);
    assert.equal(policyAllows(p, FN, invoke(user(OTHER, 'mallory'))), false);
  });

  it('allows a role’s sessions when the role is named', () => {
    const p = policy(grant({ Principal: `arn:aws:iam::${OTHER}:role/caller` }));
    const session: Caller = { accountId: OTHER, arn: `arn:aws:sts::${OTHER}:assumed-role/caller/fn-session`, policies: [] };
    const otherRole: Caller = { accountId: OTHER, arn: `arn:aws:sts::${OTHER}:assumed-role/callerx/fn-session`, policies: [] };
    const sameNameElsewhere: Caller = { accountId: THIRD, arn: `arn:aws:sts::${THIRD}:assumed-role/caller/fn-session`, policies: [] };
    assert.equal(policyAllows(p, FN, invoke(session)), true);
    assert.equal(policyAllows(p, FN, invoke(otherRole)), false);
    assert.equal(policyAllows(p, FN, invoke(sameNameElsewhere)), false);
  });

  it('never lets a service principal stand for a caller', () => {
    const p = policy(grant({ Principal: 's3.amazonaws.com' }));
    assert.equal(policyAllows(p, FN, invoke(user(OTHER))), false);
  });

  it('matches the action, with wildcards and without regard to case', () => {
    assert.equal(policyAllows(policy(grant({ Principal: OTHER })), FN, { caller: user(OTHER), action: 'lambda:GetFunction' }), false);
    assert.equal(policyAllows(policy(grant({ Principal: OTHER, Action: 'lambda:*' })), FN, { caller: user(OTHER), action: 'lambda:GetFunction' }), true);
    assert.equal(policyAllows(policy(grant({ Principal: OTHER, Action: '*' })), FN, { caller: user(OTHER), action: 'lambda:GetFunction' }), true);
    assert.equal(policyAllows(policy(grant({ Principal: OTHER })), FN, { caller: user(OTHER), action: 'Lambda:invokefunction' }), true);
  });

  it('matches the resource: a function’s statement does not cover its alias', () => {
    const p = policy(grant({ Principal: OTHER }));
    assert.equal(policyAllows(p, ALIAS, invoke(user(OTHER))), false);
    assert.equal(policyAllows(policy(grant({ Principal: OTHER }, ALIAS)), ALIAS, invoke(user(OTHER))), true);
  });

  it('holds SourceArn (ArnLike, with wildcards) and SourceAccount (StringEquals)', () => {
    const p = policy(grant({ Principal: '*', SourceArn: `arn:aws:execute-api:us-east-1:${OTHER}:api1/*/GET/items`, SourceAccount: OTHER }));
    const ok = invoke(user(OTHER), { sourceArn: `arn:aws:execute-api:us-east-1:${OTHER}:api1/prod/GET/items`, sourceAccount: OTHER });
    assert.equal(policyAllows(p, FN, ok), true);
    assert.equal(policyAllows(p, FN, { ...ok, sourceArn: `arn:aws:execute-api:us-east-1:${OTHER}:api2/prod/GET/items` }), false);
    assert.equal(policyAllows(p, FN, { ...ok, sourceAccount: THIRD }), false);
    assert.equal(policyAllows(p, FN, invoke(user(OTHER))), false, 'a condition on a key the request lacks fails');
  });

  it('fails conditions Kindling cannot know (organizations, event source tokens)', () => {
    assert.equal(policyAllows(policy(grant({ Principal: '*', PrincipalOrgID: 'o-abcdefghij' })), FN, invoke(user(OTHER))), false);
    assert.equal(policyAllows(policy(grant({ Principal: '*', EventSourceToken: 'secret' })), FN, invoke(user(OTHER))), false);
  });

  it('lets an explicit Deny win, and ignores unknown operators by refusing', () => {
    const allow = grant({ Principal: '*' });
    const deny: ResourceStatement = { ...allow, Sid: 'no', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${THIRD}:root` } };
    const p = policy(allow, deny);
    assert.equal(policyAllows(p, FN, invoke(user(OTHER))), true);
    assert.equal(policyAllows(p, FN, invoke(user(THIRD))), false);
    const odd: ResourceStatement = { ...allow, Condition: { NumericLessThan: { 'aws:SourceAccount': '5' } } };
    assert.equal(policyAllows(policy(odd), FN, invoke(user(OTHER), { sourceAccount: '1' })), false);
  });

  it('passes negated and IfExists conditions on missing keys, as IAM does', () => {
    const negated: ResourceStatement = { ...grant({ Principal: '*' }), Condition: { StringNotEquals: { 'AWS:SourceAccount': THIRD } } };
    assert.equal(policyAllows(policy(negated), FN, invoke(user(OTHER))), true);
    assert.equal(policyAllows(policy(negated), FN, invoke(user(OTHER), { sourceAccount: THIRD })), false);
    const ifExists: ResourceStatement = { ...grant({ Principal: '*' }), Condition: { ArnLikeIfExists: { 'AWS:SourceArn': 'arn:aws:sqs:*:*:q' } } };
    assert.equal(policyAllows(policy(ifExists), FN, invoke(user(OTHER))), true);
    assert.equal(policyAllows(policy(ifExists), FN, invoke(user(OTHER), { sourceArn: 'arn:aws:sqs:us-east-1:1:other' })), false);
  });
});

describe('the resource policy cache', () => {
  it('answers from memory what the store holds, scoped by qualifier, and follows writes and deletions', async () => {
    const store = new SqliteStore(':memory:');
    const cache = new ResourcePolicyCache({ store, logger: silentLogger });
    try {
      const put = (arn: string, qualifier: string, statements: ResourceStatement[], previous?: string) =>
        store.policies.put({ resourceArn: arn, owner: 'shared', qualifier, policy: JSON.stringify(policy(...statements)), revisionId: `r-${arn}-${statements.length}` }, previous);
      assert.equal(await put(FN, '', [grant({ Principal: OTHER })]), true);
      await cache.load();
      cache.watch();
      assert.equal(cache.allows(FN, invoke(user(OTHER))), true);
      assert.equal(cache.allows(`${FN}:$LATEST`, invoke(user(OTHER))), true, '$LATEST is the function itself');
      assert.equal(cache.allows(ALIAS, invoke(user(OTHER))), false, 'the function’s policy does not reach its alias');
      assert.equal(await put(ALIAS, 'live', [grant({ Principal: THIRD }, ALIAS)]), true);
      await cache.refresh('shared');
      assert.equal(cache.allows(ALIAS, invoke(user(THIRD))), true);
      assert.equal(cache.allows(FN, invoke(user(THIRD))), false, 'the alias’s policy does not reach the function');
      // A stale revision loses (another writer came first) and changes nothing.
      assert.equal(await put(ALIAS, 'live', [grant({ Principal: OTHER }, ALIAS)], 'stale'), false);
      await cache.refresh('shared');
      assert.equal(cache.allows(ALIAS, invoke(user(OTHER))), false);
      // Deleting the alias removes its policy with it (and the feed tells the cache).
      await store.aliases.delete('shared', 'live');
      await cache.refresh('shared');
      assert.equal(cache.allows(ALIAS, invoke(user(THIRD))), false);
      assert.equal((await store.policies.listOwner('shared')).length, 1);
      await store.functions.delete('shared');
      await cache.refresh('shared');
      assert.equal(cache.allows(FN, invoke(user(OTHER))), false);
      assert.deepEqual(await store.policies.list(), []);
    } finally {
      cache.close();
      await store.close();
    }
  });
});
