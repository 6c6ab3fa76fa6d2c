/**
 * A pre-started runtime (the host's worker/prestart-pool.ts): the interpreter and this runtime's own
 * modules are loaded, and its Runtime API connection open, before any function is chosen. The
 * runtime says it is ready on stdout, then waits on stdin for the one function it will ever run: a
 * line of JSON with the function's variables, which replace the neutral ones it was started with.
 * From there on it is an ordinary runtime: Init loads the handler.
 */
import { readSync, writeSync } from 'node:fs';

/** The variable the host starts a pre-started runtime with (never seen by a function). */
export const PRESTARTED_VARIABLE = '_KINDLING_PRESTARTED';
/** What the runtime writes to stdout once it waits; the host reads nothing else before it binds. */
const READY_LINE = 'kindling-prestarted-runtime-ready\n';

/**
 * What the sandbox itself set when it started (its Runtime API, the API bridge, a home): they stay
 * when the function's variables replace the pre-started runtime's (unless the function sets them).
 */
const SANDBOX_VARIABLES = new Set(['AWS_LAMBDA_RUNTIME_API', '_KINDLING_RUNTIME_API_SOCKET', 'AWS_ENDPOINT_URL', 'HOME']);

/**
 * Blocks until the host binds a function; exits quietly when the host closes stdin instead. The
 * wait blocks the thread (nothing else is to be done meanwhile): the function's line wakes it
 * directly, with no hop through the thread pool.
 */
export function awaitFunction(env: NodeJS.ProcessEnv): void {
  // Node makes these streams on first use: now, rather than in the function's Init.
  void process.stdout;
  void process.stderr;
  writeSync(1, READY_LINE);
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  // fd 0 is read directly (not process.stdin, which stays the function's own).
  for (;;) {
    let read: number;
    try {
      read = readSync(0, buffer, 0, buffer.length, null);
    } catch (err) {
      // A non-blocking stdin (never made so by Kindling's drivers): wait a millisecond and read again.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      continue;
    }
    if (read === 0) process.exit(0);
    const chunk = Buffer.from(buffer.subarray(0, read));
    chunks.push(chunk);
    if (chunk.includes(0x0a)) break;
  }
  const bound = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { env: Record<string, string> };
  for (const name of Object.keys(env)) if (!Object.hasOwn(bound.env, name) && !SANDBOX_VARIABLES.has(name)) delete env[name];
  Object.assign(env, bound.env);
}
