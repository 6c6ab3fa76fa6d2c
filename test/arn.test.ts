import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionArn, parseFunctionRef, ResourceNotFoundException, ValidationException } from '../src/shared/index.js';

const here = { region: 'us-east-1', accountId: '123456789012' };

describe('function names and ARNs', () => {
  it('accepts a name, a qualified name, a partial ARN and a full ARN', () => {
    assert.deepEqual(parseFunctionRef('my-fn_1', here), { name: 'my-fn_1' });
    assert.deepEqual(parseFunctionRef('my-fn:live', here), { name: 'my-fn', qualifier: 'live' });
    assert.deepEqual(parseFunctionRef('my-fn:$LATEST', here), { name: 'my-fn', qualifier: '$LATEST' });
    assert.deepEqual(parseFunctionRef('123456789012:function:my-fn', here), { name: 'my-fn' });
    assert.deepEqual(parseFunctionRef('arn:aws:lambda:us-east-1:123456789012:function:my-fn:3', here), { name: 'my-fn', qualifier: '3' });
  });

  it('refuses what is not a function name', () => {
    for (const bad of ['', 'has space', 'a/b', 'arn:aws:s3:::bucket', 'fn:', 'x'.repeat(65)]) {
      assert.throws(() => parseFunctionRef(bad, here), ValidationException, bad);
    }
  });

  it('treats an ARN of another account or region as not found', () => {
    assert.throws(() => parseFunctionRef('arn:aws:lambda:eu-west-1:123456789012:function:f', here), ResourceNotFoundException);
    assert.throws(() => parseFunctionRef('999999999999:function:f', here), ResourceNotFoundException);
  });

  it('builds ARNs as Lambda spells them', () => {
    assert.equal(functionArn(here, 'f'), 'arn:aws:lambda:us-east-1:123456789012:function:f');
    assert.equal(functionArn(here, 'f', 'live'), 'arn:aws:lambda:us-east-1:123456789012:function:f:live');
  });
});
