import { AddPermissionCommand, CreateFunctionCommand, GetPolicyCommand, RemovePermissionCommand, TagResourceCommand, ListTagsCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Caller } from '../src/identity/index.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { startTestServer, type TestServer } from './support/kindling.js';
import { PostgresCluster, postgresUnavailable } from './support/postgres.js';
import { eventually, eventuallyAsync } from './support/wait.js';

const unavailable = postgresUnavailable();
const OTHER = '222222222222';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fleet-shared';
const user: Caller = { accountId: OTHER, arn: `arn:aws:iam::${OTHER}:user/u`, policies: 'all' };

// Invoke asks each server's memory, never the store: a grant made on one server must reach the
// others' memory through the change feed, and a revoked one must leave it.
describe('resource policies across two servers on one PostgreSQL', { skip: unavailable || false }, () => {
  let cluster: PostgresCluster;
  let a: TestServer;
  let b: TestServer;
  const allowedOn = (server: TestServer) => server.kindling.resourcePolicies.allows(ARN, { caller: user, action: 'lambda:InvokeFunction' });

  before(async () => {
    cluster = await PostgresCluster.start();
    const url = await cluster.createDatabase('policies');
    a = await startTestServer({ store: url });
    b = await startTestServer({ store: url });
    await a.lambda.send(new CreateFunctionCommand(await nodeFunction('fleet-shared')));
    await waitUntilFunctionActiveV2({ client: a.lambda, maxWaitTime: 30 }, { FunctionName: 'fleet-shared' });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await cluster?.stop();
  });

  it('a grant on one server allows on the other, and its removal refuses there', async () => {
    assert.equal(allowedOn(b), false);
    await a.lambda.send(new AddPermissionCommand({ FunctionName: 'fleet-shared', StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: OTHER }));
    assert.equal(allowedOn(a), true, 'at once on the server that wrote it');
    await eventually(() => allowedOn(b), 'the other server allows it');
    // A write on B over the revision A read first: the revision B names is the one both see.
    const { RevisionId } = await b.lambda.send(new GetPolicyCommand({ FunctionName: 'fleet-shared' }));
    await a.lambda.send(new AddPermissionCommand({ FunctionName: 'fleet-shared', StatementId: 'y', Action: 'lambda:InvokeFunction', Principal: '*' }));
    await rejectsWith(b.lambda.send(new RemovePermissionCommand({ FunctionName: 'fleet-shared', StatementId: 'x', RevisionId })), 'PreconditionFailedException', 412);
    await b.lambda.send(new RemovePermissionCommand({ FunctionName: 'fleet-shared', StatementId: 'x' }));
    await b.lambda.send(new RemovePermissionCommand({ FunctionName: 'fleet-shared', StatementId: 'y' }));
    assert.equal(allowedOn(b), false);
    await eventually(() => !allowedOn(a), 'the first server refuses it again');
  });

  it('tags written on one server are read on the other', async () => {
    await a.lambda.send(new TagResourceCommand({ Resource: ARN, Tags: { team: 'fleet' } }));
    await eventuallyAsync(
      () => b.lambda.send(new ListTagsCommand({ Resource: ARN })),
      (out) => out.Tags?.['team'] === 'fleet',
      'the other server lists the tag',
    );
  });
});
