/**
 * The Runtime API endpoint's own guards, without a sandbox: its socket's directory keeps other
 * users out, and the loopback port (the process sandbox when the server is not root) serves one
 * uid only. The other user is a child process run as nobody.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { RuntimeApiEndpoint } from '../src/runtime-api/index.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

/** GET /next from a child running as `uid`; what it saw, as `status <code>` or `error <code>`. */
function nextAs(uid: number, target: { socketPath: string } | { port: number }): Promise<string> {
  const where = JSON.stringify('socketPath' in target ? { socketPath: target.socketPath } : { host: '127.0.0.1', port: target.port });
  const script = `
    const req = require('http').request({ ...${where}, path: '/2018-06-01/runtime/invocation/next', agent: false }, (res) => {
      res.resume();
      res.on('end', () => console.log('status ' + res.statusCode + ' ' + (res.headers['lambda-runtime-aws-request-id'] ?? '')));
    });
    req.on('error', (err) => console.log('error ' + err.code));
    req.end();`;
  const child = spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve) => child.once('close', () => resolve(out.trim())));
}

const invocation = (requestId: string) => ({
  requestId,
  payload: Buffer.from('{"secret":true}'),
  deadlineMs: Date.now() + 30_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
  traceId: 'Root=1-00000000-000000000000000000000000',
});

describe('Runtime API endpoint access', { skip: !root && 'needs root to act as another user' }, () => {
  let endpoint: RuntimeApiEndpoint | undefined;
  afterEach(() => endpoint?.close());

  it('listens on a socket in a private directory that another user cannot enter, until it is granted to that user', async () => {
    endpoint = new RuntimeApiEndpoint({ onNext: () => {}, onInitError: () => {} });
    const socketPath = await endpoint.listen(tmpdir());
    assert.equal(statSync(dirname(socketPath)).mode & 0o777, 0o700);
    void endpoint.deliver(invocation('req-1'));
    assert.equal(await nextAs(NOBODY, { socketPath }), 'error EACCES');
    endpoint.grant(NOBODY);
    assert.equal(await nextAs(NOBODY, { socketPath }), 'status 200 req-1', 'the uid it was granted to gets its invocation');
    endpoint.close();
    endpoint = undefined;
    assert.throws(() => statSync(dirname(socketPath)), /ENOENT/, 'close removes the directory');
  });

  it('serves its loopback port to the one uid it was opened for, and closes it on anyone else', async () => {
    endpoint = new RuntimeApiEndpoint({ onNext: () => {}, onInitError: () => {} });
    await endpoint.listen(tmpdir());
    void endpoint.deliver(invocation('req-2'));
    const port = await endpoint.loopbackPort(NOBODY);
    const asRoot = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/2018-06-01/runtime/invocation/next', agent: false }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    });
    assert.equal(asRoot, 'error ECONNRESET', 'another uid (root here) gets a closed connection');
    assert.equal(await nextAs(NOBODY, { port }), 'status 200 req-2');
    assert.equal(await nextAs(NOBODY + 1, { port }), 'error ECONNRESET');
  });
});
