import { connect } from 'node:net';

/**
 * The first lines of every probe function the break-out and isolation suites run inside a
 * sandbox: `attempt(fn)` answers `{ok, value | code}`, `connect(host, port)` whether a TCP
 * connection opened (3 s at most). Each suite adds its own handler after them.
 */
export const PROBE_PRELUDE = `
const fs = require('fs');
const net = require('net');
const attempt = (fn) => { try { return { ok: true, value: fn() }; } catch (err) { return { ok: false, code: err.code }; } };
const connect = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port, timeout: 3000 });
  socket.once('connect', () => { socket.destroy(); resolve({ ok: true }); });
  socket.once('timeout', () => { socket.destroy(); resolve({ ok: false, code: 'ETIMEDOUT' }); });
  socket.once('error', (err) => resolve({ ok: false, code: err.code }));
});
`;

/** Connects from the host (the test) to `target` and closes: proof the address a probe is refused is right. */
export function hostConnects(target: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = connect(target, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
