import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { whenDrained } from '../src/shared/index.js';

/** A server whose one response is handed to the test, and a client that reads it only when told. */
async function pair(): Promise<{ res: ServerResponse; read(): void; abort(): void; close(): void }> {
  let handed: (res: ServerResponse) => void;
  const got = new Promise<ServerResponse>((resolve) => (handed = resolve));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.flushHeaders();
    handed(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let resume: () => void = () => {};
  let responded: () => void;
  const headed = new Promise<void>((resolve) => (responded = resolve));
  const client = request({ host: '127.0.0.1', port, path: '/' }, (incoming) => {
    incoming.pause();
    resume = () => incoming.resume();
    incoming.on('error', () => {});
    responded();
  });
  client.on('error', () => {});
  client.end();
  const res = await got;
  await headed;
  return {
    res,
    read: () => resume(),
    abort: () => client.destroy(),
    close: () => {
      client.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Writes until the response stays full: the client reads nothing, so once the kernel's socket
 * buffers are full too, no 'drain' comes.
 */
async function fill(res: ServerResponse): Promise<void> {
  const chunk = Buffer.alloc(256 * 1024);
  for (;;) {
    if (res.write(chunk)) continue;
    const drained = await Promise.race([once(res, 'drain').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
    if (!drained) return;
  }
}

describe('whenDrained: a streamed response holds its writer while the client is behind', () => {
  it('calls back only after the client reads what was buffered', async () => {
    const { res, read, close } = await pair();
    await fill(res);
    let drained = false;
    whenDrained(res, () => (drained = true));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(drained, false, 'the client has read nothing: the writer stays held');
    read();
    while (!drained) await new Promise((r) => setTimeout(r, 10));
    res.end();
    close();
  });

  it('calls back when the client goes away, so a held runtime is always released', async () => {
    const { res, abort, close } = await pair();
    await fill(res);
    const released = new Promise<void>((resolve) => whenDrained(res, resolve));
    abort();
    await released;
    close();
  });

  it('calls back at once when nothing is buffered', async () => {
    const { res, close } = await pair();
    let called = false;
    whenDrained(res, () => (called = true));
    assert.equal(called, true);
    res.end();
    close();
  });
});
