import { fileURLToPath } from 'node:url';
import type { FunctionRecord } from '../store/index.js';

/** Where Kindling's own Node.js runtime client lives (built from src/runtimes/nodejs). */
export const NODE_BOOTSTRAP = fileURLToPath(new URL('../runtimes/nodejs/bootstrap.js', import.meta.url));
const RUNTIME_DIR = fileURLToPath(new URL('../runtimes/nodejs/', import.meta.url));

export interface LaunchContext {
  readonly region: string;
  readonly nodeBinary: string;
  readonly version: string;
  readonly codeDir: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly initializationType: 'on-demand' | 'provisioned-concurrency';
}

export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

/** The runtime command and the variables Lambda sets for it (configuration-envvars). */
export function launchFor(fn: FunctionRecord, ctx: LaunchContext): Launch {
  const major = /^nodejs(\d+)/.exec(fn.runtime)?.[1] ?? '20';
  const env: Record<string, string> = {
    ...fn.environment,
    _HANDLER: fn.handler,
    AWS_REGION: ctx.region,
    AWS_DEFAULT_REGION: ctx.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: ctx.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: ctx.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: ctx.logStream,
    AWS_LAMBDA_INITIALIZATION_TYPE: ctx.initializationType,
    LAMBDA_TASK_ROOT: ctx.codeDir,
    LAMBDA_RUNTIME_DIR: RUNTIME_DIR,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    LD_LIBRARY_PATH: '/lib64:/usr/lib64:/opt/lib',
    NODE_PATH: [`/opt/nodejs/node${major}/node_modules`, '/opt/nodejs/node_modules', ctx.codeDir].join(':'),
  };
  // Lambda's Node.js runtime sizes the V8 heap from the function's memory.
  const heapMb = Math.floor(fn.memorySize * 0.9);
  return { command: ctx.nodeBinary, args: [`--max-old-space-size=${heapMb}`, NODE_BOOTSTRAP], env };
}
