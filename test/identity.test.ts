import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluatePolicies, KeyFile, type PolicyDocument } from '../src/identity/index.js';
import { readSignatureClaim } from '../src/identity/sigv4-parts.js';

const doc = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({ Statement });

describe('identity policies, evaluated as IAM does', () => {
  const fn = 'arn:aws:lambda:us-east-1:000000000000:function:orders';

  it('wildcards: * any run, ? one character; actions case-insensitive, resources not', () => {
    const p = [doc({ Effect: 'Allow', Action: 'lambda:Invoke*', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:ord?rs*' })];
    assert.equal(evaluatePolicies(p, 'lambda:InvokeFunction', fn), 'allow');
    assert.equal(evaluatePolicies(p, 'LAMBDA:invokefunction', `${fn}:prod`), 'allow');
    assert.equal(evaluatePolicies(p, 'lambda:InvokeFunction', fn.replace('orders', 'ORDERS')), 'implicit-deny');
    assert.equal(evaluatePolicies(p, 'lambda:GetFunction', fn), 'implicit-deny');
    assert.equal(evaluatePolicies(p, 'lambda:InvokeFunction', fn.replace('orders', 'oders')), 'implicit-deny');
    // A dot or a bracket in a pattern is itself, not a regular-expression operator.
    const literal = [doc({ Effect: 'Allow', Action: 'lambda:Get.*', Resource: '*' })];
    assert.equal(evaluatePolicies(literal, 'lambda:GetFunction', fn), 'implicit-deny');
  });

  it('an explicit Deny anywhere wins; nothing said is a deny; all is all', () => {
    const p = [doc({ Effect: 'Allow', Action: '*', Resource: '*' }), doc({ Effect: 'Deny', Action: ['lambda:DeleteFunction'], Resource: ['*'] })];
    assert.equal(evaluatePolicies(p, 'lambda:DeleteFunction', fn), 'explicit-deny');
    assert.equal(evaluatePolicies(p, 'lambda:GetFunction', fn), 'allow');
    assert.equal(evaluatePolicies([], 'lambda:GetFunction', fn), 'implicit-deny');
    assert.equal(evaluatePolicies('all', 'lambda:DeleteFunction', fn), 'allow');
  });

  it('an Allow with a Condition it cannot check allows nothing; a Deny with one still denies', () => {
    const cond = { StringEquals: { 'aws:SourceAccount': '1' } };
    assert.equal(evaluatePolicies([doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: cond })], 'lambda:GetFunction', fn), 'implicit-deny');
    assert.equal(
      evaluatePolicies([doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: '*', Resource: '*', Condition: cond })], 'lambda:GetFunction', fn),
      'explicit-deny',
    );
  });
});

describe('the parts of a SigV4 signature, and what is missing in AWS words', () => {
  const none = new Map<string, string>();

  it('no Authorization and no X-Amz-Algorithm is an unsigned request', () => {
    assert.throws(() => readSignatureClaim({}, none), { name: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
  });

  it('an Authorization header without its parts is IncompleteSignatureException', () => {
    assert.throws(() => readSignatureClaim({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261130/us-east-1/lambda/aws4_request', 'x-amz-date': '20261130T000000Z' }, none), {
      name: 'IncompleteSignatureException',
      message: /^Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\. Authorization=AWS4/,
    });
    assert.throws(() => readSignatureClaim({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261130/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=ab' }, none), {
      name: 'IncompleteSignatureException',
      message: /requires existence of either a 'X-Amz-Date' or a 'Date' header/,
    });
    assert.throws(() => readSignatureClaim({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261130/us-east-1, SignedHeaders=host, Signature=ab', 'x-amz-date': '20261130T000000Z' }, none), {
      name: 'IncompleteSignatureException',
    });
  });

  it('a presigned query without its parts, or lasting past seven days, is IncompleteSignatureException', () => {
    assert.throws(() => readSignatureClaim({}, new Map([['X-Amz-Algorithm', 'AWS4-HMAC-SHA256']])), {
      name: 'IncompleteSignatureException',
      message: /AWS query-string parameters must include 'X-Amz-Credential'\./,
    });
    const query = new Map([
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', 'AKIA/20261130/us-east-1/lambda/aws4_request'],
      ['X-Amz-Date', '20261130T000000Z'],
      ['X-Amz-SignedHeaders', 'host'],
      ['X-Amz-Signature', 'ab'],
      ['X-Amz-Expires', '604801'],
    ]);
    assert.throws(() => readSignatureClaim({}, query), { name: 'IncompleteSignatureException', message: /X-Amz-Expires/ });
  });

  it("a scope date other than the request's is InvalidSignatureException", () => {
    assert.throws(
      () => readSignatureClaim({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261129/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=ab', 'x-amz-date': '20261130T000000Z' }, none),
      { name: 'InvalidSignatureException', message: /Date in Credential scope does not match/ },
    );
  });
});

describe('the key file', () => {
  it('is made 0600 on first use, derives stable keys by label, and seals secrets bound to their key id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-keyfile-'));
    try {
      const path = join(dir, 'sub', 'kindling.key');
      const first = KeyFile.openOrCreate(path);
      assert.equal(first.created, true);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const again = KeyFile.openOrCreate(path);
      assert.equal(again.created, false);
      assert.deepEqual(again.keyFile.deriveKey('sessions'), first.keyFile.deriveKey('sessions'));
      assert.notDeepEqual(first.keyFile.deriveKey('sessions'), first.keyFile.deriveKey('other'));
      const sealed = first.keyFile.seal('s3cret', 'AKIA1');
      assert.equal(sealed.includes(Buffer.from('s3cret')), false);
      assert.equal(again.keyFile.open(sealed, 'AKIA1'), 's3cret');
      assert.throws(() => again.keyFile.open(sealed, 'AKIA2'), { code: 'ERR_KEY_FILE' });
      const otherPath = join(dir, 'other.key');
      const other = KeyFile.openOrCreate(otherPath).keyFile;
      assert.throws(() => other.open(sealed, 'AKIA1'), { code: 'ERR_KEY_FILE' });
      writeFileSync(otherPath, 'too short');
      assert.throws(() => KeyFile.openOrCreate(otherPath), { code: 'ERR_KEY_FILE', message: /must hold 32 bytes/ });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
