import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterException, parseFilterPattern } from '../src/logs/index.js';

const match = (pattern: string, message: string) => parseFilterPattern(pattern).matches(message);

describe('CloudWatch filter patterns (unstructured events)', () => {
  it('an empty or blank pattern matches every event', () => {
    assert.equal(match('', 'anything'), true);
    assert.equal(match('   ', ''), true);
  });

  it('a term matches events that contain it, case-sensitively', () => {
    assert.equal(match('ERROR', '[ERROR] 400 BAD REQUEST'), true);
    assert.equal(match('ERROR', 'error: lower case'), false);
    assert.equal(match('ERROR', 'all is well'), false);
  });

  it('several terms must all match, in any order', () => {
    assert.deepEqual(parseFilterPattern('ERROR  timeout').required, ['ERROR', 'timeout']);
    assert.equal(match('ERROR timeout', 'timeout after ERROR'), true);
    assert.equal(match('ERROR timeout', 'ERROR only'), false);
  });

  it('a quoted term is an exact phrase, with \\" and \\\\ escapes', () => {
    assert.equal(match('"hello world"', 'user said hello world!'), true);
    assert.equal(match('"hello world"', 'hello there world'), false);
    assert.equal(match('hello world', 'hello there world'), true);
    assert.deepEqual(parseFilterPattern('"say \\"hi\\" C:\\\\tmp"').required, ['say "hi" C:\\tmp']);
    assert.equal(match('"RequestId: abc"', 'END RequestId: abc'), true);
  });

  it('?terms match when any of them does', () => {
    const pattern = parseFilterPattern('?ERROR ?"disk full"');
    assert.deepEqual(pattern.anyOf, ['ERROR', 'disk full']);
    assert.equal(pattern.matches('ERROR here'), true);
    assert.equal(pattern.matches('the disk full again'), true);
    assert.equal(pattern.matches('WARN disk nearly full'), false);
  });

  it('plain terms still must all match beside ?terms', () => {
    assert.equal(match('db ?ERROR ?WARN', 'db WARN slow'), true);
    assert.equal(match('db ?ERROR ?WARN', 'cache WARN slow'), false);
    assert.equal(match('db ?ERROR ?WARN', 'db INFO fine'), false);
  });

  it('-terms exclude', () => {
    const pattern = parseFilterPattern('ERROR -Exiting -"health check"');
    assert.deepEqual(pattern.excluded, ['Exiting', 'health check']);
    assert.equal(pattern.matches('ERROR in handler'), true);
    assert.equal(pattern.matches('ERROR Exiting now'), false);
    assert.equal(pattern.matches('ERROR on health check'), false);
    assert.equal(match('-DEBUG', 'INFO line'), true);
    assert.equal(match('-DEBUG', 'DEBUG line'), false);
  });

  it('rejects what it does not support, and malformed patterns, with InvalidParameterException', () => {
    const rejects = (pattern: string, message: RegExp) =>
      assert.throws(() => parseFilterPattern(pattern), (err: unknown) => err instanceof InvalidParameterException && message.test(err.message));
    rejects('{ $.level = "ERROR" }', /JSON filter patterns .* not supported/);
    rejects('[ip, user, status = 500]', /space-delimited filter patterns .* not supported/);
    rejects('%ERR.R%', /regular expression filter patterns .* not supported/);
    rejects('"unterminated', /Unterminated quoted term/);
    rejects('RequestId:', /Invalid character\(s\) in term 'RequestId:'/);
    rejects('ERROR -', /A - must be followed by a term/);
    rejects('? ERROR', /A \? must be followed by a term/);
    rejects('""', /Empty quoted term/);
    rejects('"a"b', /after the quoted term/);
  });
});
