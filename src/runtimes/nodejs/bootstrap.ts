/**
 * Entry point of the Node.js runtime, started by the host inside an execution environment:
 *   node /path/to/dist/src/runtimes/nodejs/bootstrap.js
 * with cwd = LAMBDA_TASK_ROOT and Lambda's reserved environment variables (or, pre-started, neutral
 * ones until the host binds a function: prestart.ts). It imports only Node
 * built-ins and its own folder: it runs on its own, apart from the host.
 */
import path from 'node:path';
import { installAwsLambdaGlobal } from './awslambda.js';
import { patchConsole } from './logging.js';
import { awaitFunction, PRESTARTED_VARIABLE } from './prestart.js';
import { Runtime, EXIT_RUNTIME_API_FAILURE } from './runtime.js';
import { RuntimeClient } from './runtime-client.js';

const env = process.env;
const runtimeApi = env['AWS_LAMBDA_RUNTIME_API'];
if (runtimeApi === undefined || runtimeApi === '') {
  process.stderr.write('kindling runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
  process.exit(EXIT_RUNTIME_API_FAILURE);
}
const client = new RuntimeClient(runtimeApi);
if (env[PRESTARTED_VARIABLE] !== undefined) {
  // Started ahead of demand: everything above is loaded; connect, then wait for the function.
  await client.connect();
  awaitFunction(env);
}

// Before the handler loads, so lines it logs at init are in Lambda's format too.
patchConsole();
// Before the handler loads too (its module calls awslambda.streamifyResponse at import); after a
// pre-started runtime is bound, so the function's own variables decide.
installAwsLambdaGlobal(env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA']);

const runtime = new Runtime({
  client,
  taskRoot: path.resolve(env['LAMBDA_TASK_ROOT'] ?? process.cwd()),
  handler: env['_HANDLER'] ?? '',
  metadata: Object.freeze({
    functionName: env['AWS_LAMBDA_FUNCTION_NAME'] ?? '',
    functionVersion: env['AWS_LAMBDA_FUNCTION_VERSION'] ?? '$LATEST',
    memoryLimitInMB: env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] ?? '128',
    logGroupName: env['AWS_LAMBDA_LOG_GROUP_NAME'] ?? '',
    logStreamName: env['AWS_LAMBDA_LOG_STREAM_NAME'] ?? '',
  }),
});

// start() reports its own failures (init errors, crashes); nothing is left to await here.
void runtime.start();
