import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';

const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

describe('tags through the AWS SDK', () => {
  let server: TestServer;
  const send = (command: object): Promise<unknown> => server.lambda.send(command as never);
  const tagsOf = async (name: string) => (await server.lambda.send(new ListTagsCommand({ Resource: ARN(name) }))).Tags;
  const create = async (name: string, handler?: string, Tags?: Record<string, string>) => {
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction(name, handler, Tags ? { Tags } : {})));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: name });
  };

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('adds, overwrites, lists and removes tags, and GetFunction shows the same', async () => {
    await create('tagged', undefined, { team: 'a' });
    assert.deepEqual(await tagsOf('tagged'), { team: 'a' });
    await send(new TagResourceCommand({ Resource: ARN('tagged'), Tags: { team: 'b', 'cost center': 'R+D 1' } }));
    assert.deepEqual(await tagsOf('tagged'), { team: 'b', 'cost center': 'R+D 1' });
    assert.deepEqual((await server.lambda.send(new GetFunctionCommand({ FunctionName: 'tagged' }))).Tags, { team: 'b', 'cost center': 'R+D 1' });
    await send(new UntagResourceCommand({ Resource: ARN('tagged'), TagKeys: ['team', 'not-there'] }));
    assert.deepEqual(await tagsOf('tagged'), { 'cost center': 'R+D 1' });
    await send(new UntagResourceCommand({ Resource: ARN('tagged'), TagKeys: ['cost center'] }));
    assert.deepEqual(await tagsOf('tagged'), {});
  });

  it('holds Lambda’s limits and writes nothing when a request breaks one', async () => {
    await create('limited', undefined, { keep: 'me' });
    const refused = async (Tags: Record<string, string>, message: RegExp) => {
      await rejectsWith(send(new TagResourceCommand({ Resource: ARN('limited'), Tags })), 'InvalidParameterValueException', 400, message);
      assert.deepEqual(await tagsOf('limited'), { keep: 'me' });
    };
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    await refused(many, /^Number of tags exceeds resource tag limit\.$/); // 50 new + 1 kept
    await refused({ ['k'.repeat(129)]: 'v' }, /Tag key must be between 1 and 128/);
    await refused({ long: 'v'.repeat(257) }, /at most 256/);
    await refused({ 'aws:cloudformation:stack-name': 'x' }, /reserved for AWS use/);
    await refused({ 'semi;colon': 'x' }, /letters, digits, spaces/);
    await rejectsWith(send(new UntagResourceCommand({ Resource: ARN('limited'), TagKeys: ['aws:x'] })), 'InvalidParameterValueException', 400, /reserved/);
    // 49 more fit beside the one kept: exactly 50.
    await send(new TagResourceCommand({ Resource: ARN('limited'), Tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v'])) }));
    assert.equal(Object.keys((await tagsOf('limited'))!).length, 50);
    await send(new TagResourceCommand({ Resource: ARN('limited'), Tags: { k0: 'overwriting is not adding' } }));
  });

  it('names the resource by a function ARN of this account, unqualified', async () => {
    await rejectsWith(send(new ListTagsCommand({ Resource: ARN('missing') })), 'ResourceNotFoundException', 404, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing/);
    await rejectsWith(send(new ListTagsCommand({ Resource: 'tagged' })), 'ValidationException', 400, /at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    await rejectsWith(
      send(new TagResourceCommand({ Resource: `${ARN('tagged')}:1`, Tags: { a: 'b' } })),
      'InvalidParameterValueException',
      400,
      /Tags on function aliases and versions are not supported/,
    );
    await rejectsWith(send(new ListTagsCommand({ Resource: 'arn:aws:lambda:us-east-1:999999999999:function:tagged' })), 'ResourceNotFoundException', 404);
  });

  it('checks Kindling’s own tags as CreateFunction does, and a change to one starts new environments', async () => {
    await create('sandboxed', 'const id = Math.random();\nexports.handler = async () => id;\n');
    const started = async () => json((await server.lambda.send(new InvokeCommand({ FunctionName: 'sandboxed' }))).Payload);
    const first = await started();
    await rejectsWith(
      send(new TagResourceCommand({ Resource: ARN('sandboxed'), Tags: { 'kindling:sandbox': 'no-such-driver', team: 'x' } })),
      'InvalidParameterValueException',
      400,
      /Tag kindling:sandbox must name a sandbox driver this server allows/,
    );
    await rejectsWith(send(new TagResourceCommand({ Resource: ARN('sandboxed'), Tags: { 'kindling:network': 'sideways' } })), 'InvalidParameterValueException', 400, /kindling:network/);
    assert.deepEqual(await tagsOf('sandboxed'), {}, 'a refused request writes none of its tags');
    // An ordinary tag leaves the warm environment alone ...
    await send(new TagResourceCommand({ Resource: ARN('sandboxed'), Tags: { team: 'x' } }));
    assert.equal(await started(), first);
    // ... a tag that chooses the sandbox retires it, like a configuration change.
    await send(new TagResourceCommand({ Resource: ARN('sandboxed'), Tags: { 'kindling:sandbox': server.kindling.sandbox.allowed[0]! } }));
    const second = await started();
    assert.notEqual(second, first);
    await send(new UntagResourceCommand({ Resource: ARN('sandboxed'), TagKeys: ['kindling:sandbox'] }));
    assert.notEqual(await started(), second);
  });

  it('forgets a deleted function’s tags: a function made again under its name starts with none', async () => {
    await create('recycled', undefined, { old: 'yes' });
    await send(new TagResourceCommand({ Resource: ARN('recycled'), Tags: { more: 'yes' } }));
    await send(new DeleteFunctionCommand({ FunctionName: 'recycled' }));
    await rejectsWith(send(new ListTagsCommand({ Resource: ARN('recycled') })), 'ResourceNotFoundException', 404);
    await create('recycled');
    assert.deepEqual(await tagsOf('recycled'), {});
  });
});
