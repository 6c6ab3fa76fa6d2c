/**
 * A WorkerServer in a process of its own, for tests that kill a worker mid-invoke.
 * argv: the cluster secret in hex. Prints `listening <port>`, then `started <requestId>` as each
 * invoke reaches the runner. A payload `hang` never answers; anything else is echoed.
 */
import { silentLogger } from '../../src/shared/index.js';
import { WorkerServer } from '../../src/worker/index.js';

const hex = process.argv[2] ?? '';
// `node --test dist/test/` loads every file below it, this one too, with no secret: then it does nothing.
if (!/^[0-9a-f]{64}$/.test(hex)) process.exit(0);
const secret = Buffer.from(hex, 'hex');
const server = new WorkerServer({
  secret,
  logger: silentLogger,
  accepting: () => true,
  runner: {
    invoke: (_fn, request) => {
      process.stdout.write(`started ${request.requestId}\n`);
      if (request.payload.toString() === 'hang') return new Promise(() => {});
      return Promise.resolve({ payload: request.payload, functionError: false, executedVersion: '$LATEST' });
    },
  },
});
const address = await server.listen(0, '127.0.0.1');
process.stdout.write(`listening ${address.port}\n`);
