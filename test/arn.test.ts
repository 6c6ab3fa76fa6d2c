import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionArn, parseFunctionRef, scopedName, unscope, ValidationException } from '../src/shared/index.js';

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
    for (const bad of ['', 'has space', 'a/b', 'arn:aws:s3:::bucket', 'fn:', 'x'.repeat(171)]) {
      assert.throws(() => parseFunctionRef(bad, here), ValidationException, bad);
    }
  });

  it('looks up a name over 64 characters (Lambda answers not found); the member\'s own length is checked', () => {
    assert.deepEqual(parseFunctionRef('x'.repeat(65), here), { name: 'x'.repeat(65) });
    assert.throws(() => parseFunctionRef('x'.repeat(141), here, 'functionName', 140), {
      name: 'ValidationException',
      message: `1 validation error detected: Value '${'x'.repeat(141)}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140`,
    });
  });

  it('treats an ARN of another region as not found, in Lambda\'s words', () => {
    assert.throws(() => parseFunctionRef('arn:aws:lambda:eu-west-1:123456789012:function:f', here), {
      name: 'ResourceNotFoundException',
      message: "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    });
  });

  it('keys a function by the account its reference names: the caller\'s for a bare name, the ARN\'s otherwise', () => {
    const other = '999999999999';
    // The default account's functions keep their bare names as keys (data from before accounts).
    assert.deepEqual(parseFunctionRef('f', here), { name: 'f' });
    assert.deepEqual(parseFunctionRef('f', here, 'functionName', 170, other), { name: `${other}:f` });
    assert.deepEqual(parseFunctionRef(`${other}:function:f:live`, here), { name: `${other}:f`, qualifier: 'live' });
    assert.deepEqual(parseFunctionRef(`arn:aws:lambda:us-east-1:${other}:function:f`, here), { name: `${other}:f` });
    // Another account naming the default account's function by ARN reaches that one, not its own.
    assert.deepEqual(parseFunctionRef('arn:aws:lambda:us-east-1:123456789012:function:f', here, 'functionName', 170, other), { name: 'f' });
    assert.equal(functionArn(here, `${other}:f`, '3'), `arn:aws:lambda:us-east-1:${other}:function:f:3`);
    assert.deepEqual(unscope(here.accountId, `${other}:f`), { accountId: other, name: 'f' });
    assert.deepEqual(unscope(here.accountId, 'f'), { accountId: here.accountId, name: 'f' });
    assert.equal(scopedName(here.accountId, here.accountId, 'f'), 'f');
  });

  it('builds ARNs as Lambda spells them', () => {
    assert.equal(functionArn(here, 'f'), 'arn:aws:lambda:us-east-1:123456789012:function:f');
    assert.equal(functionArn(here, 'f', 'live'), 'arn:aws:lambda:us-east-1:123456789012:function:f:live');
  });
});
