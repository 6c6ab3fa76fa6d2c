import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAMBDA_PATHS, type PathView } from '../sandbox/index.js';
import type { FunctionRecord } from '../store/index.js';
import { lambdaVariables, type VariableContext } from './lambda-variables.js';
import { imageLaunch } from './image-launch.js';

/** Kindling's own runtime clients (built from src/runtimes), on the host. */
export const RUNTIMES_DIR = fileURLToPath(new URL('../runtimes/', import.meta.url));

/** The node_modules that holds Kindling's AWS SDK for JavaScript (v3), on the host. */
const SDK_DIR = dirname(dirname(dirname(createRequire(import.meta.url).resolve('@aws-sdk/client-lambda/package.json'))));

/** What a sandbox shows a runtime of Kindling's besides its code: the AWS SDK for Node.js runtimes, as Lambda's include it. */
export function sdkFor(runtime: string): { sdkDir?: string } {
  return runtime.startsWith('nodejs') ? { sdkDir: SDK_DIR } : {};
}

export interface LaunchContext {
  readonly region: string;
  readonly nodeBinary: string;
  readonly pythonBinary: string;
  readonly version: string;
  readonly pathView: PathView;
  /** Host paths; shown as they are (`host` view) or at Lambda's paths (`lambda` view). */
  readonly codeDir: string;
  readonly optDir?: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly initializationType: 'on-demand' | 'provisioned-concurrency';
  /** The sandbox shows an image as its `/` (SandboxDriver.runsImages): PackageType Image can run. */
  readonly runsImages?: boolean;
}

export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** PackageType Image (image-launch.ts): the image's root file system on the host, and the working directory. */
  readonly rootfs?: string;
  readonly workingDir?: string;
}

/** Where the code, the layers and the runtime client are, seen from inside the sandbox. */
export function pathsFor(ctx: Pick<LaunchContext, 'pathView' | 'codeDir' | 'optDir'>): { taskRoot: string; opt: string; runtime: string } {
  if (ctx.pathView === 'lambda') return LAMBDA_PATHS;
  return { taskRoot: ctx.codeDir, opt: ctx.optDir ?? LAMBDA_PATHS.opt, runtime: RUNTIMES_DIR.replace(/\/$/, '') };
}

/** The runtime cannot be started at all (Lambda's Runtime.InvalidEntrypoint). */
export class InvalidEntrypoint extends Error {}

/** The external extensions a function's layers bring (executables in /opt/extensions). */
export function extensionsIn(optDir: string | undefined): string[] {
  if (!optDir) return [];
  const dir = join(optDir, 'extensions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && (statSync(join(dir, entry.name)).mode & 0o111) !== 0)
    .map((entry) => entry.name);
}

/**
 * The runtime command and the variables Lambda sets for it (configuration-envvars). With
 * extensions, a launcher starts them first, then the runtime in its place.
 */
export function launchFor(fn: FunctionRecord, ctx: LaunchContext): Launch {
  const launch = runtimeLaunch(fn, ctx);
  if (extensionsIn(ctx.optDir).length === 0) return launch;
  const paths = pathsFor(ctx);
  return {
    command: '/bin/sh',
    args: [`${paths.runtime}/extensions-launcher.sh`, `${paths.opt}/extensions`, launch.command, ...launch.args],
    env: launch.env,
  };
}

function runtimeLaunch(fn: FunctionRecord, ctx: LaunchContext): Launch {
  if (fn.packageType === 'Image') return imageLaunch(fn, ctx); // container images: image-launch.ts
  if (fn.runtime.startsWith('provided')) {
    // A custom runtime: the function's (or a layer's) own `bootstrap`, as Lambda looks for it.
    const paths = pathsFor(ctx);
    const found = [
      { host: join(ctx.codeDir, 'bootstrap'), inside: `${paths.taskRoot}/bootstrap` },
      ...(ctx.optDir ? [{ host: join(ctx.optDir, 'bootstrap'), inside: `${paths.opt}/bootstrap` }] : []),
    ].find((candidate) => existsSync(candidate.host));
    if (!found) {
      throw new InvalidEntrypoint(`Couldn't find valid bootstrap(s): [${LAMBDA_PATHS.taskRoot}/bootstrap ${LAMBDA_PATHS.opt}/bootstrap]`);
    }
    if ((statSync(found.host).mode & 0o111) === 0) throw new InvalidEntrypoint(`fork/exec ${found.inside}: permission denied`);
    const env = { ...functionVariables(fn, ctx), ...commonVariables(paths), LAMBDA_RUNTIME_DIR: paths.runtime };
    return { command: found.inside, args: [], env };
  }
  const base = runtimeBase(fn.runtime, fn.memorySize, ctx);
  // Lambda's own variables win over the function's of the same name.
  return { ...base, env: { ...functionVariables(fn, ctx), ...base.env } };
}

/** The variables that come from the function and its environment (the rest comes from the runtime). */
export function functionVariables(fn: FunctionRecord, ctx: VariableContext): Record<string, string> {
  return { ...fn.environment, _HANDLER: fn.handler, ...lambdaVariables(fn, ctx), AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}` };
}

function commonVariables(paths: ReturnType<typeof pathsFor>): Record<string, string> {
  return {
    LAMBDA_TASK_ROOT: paths.taskRoot,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: `/usr/local/bin:/usr/bin/:/bin:${paths.opt}/bin`,
    LD_LIBRARY_PATH: `/lib64:/usr/lib64:${paths.opt}/lib`,
  };
}

/** What a runtime's start depends on besides where things are (see pathsFor). */
export type BaseContext = Pick<LaunchContext, 'nodeBinary' | 'pythonBinary' | 'pathView' | 'codeDir' | 'optDir'>;

/**
 * How Kindling's own Node.js or Python runtime client starts for `runtime` at `memorySize`: the
 * interpreter, the client and the variables that are the same for every function. The same for
 * a runtime started ahead of demand (prestart-pool.ts), which gets the function's variables later.
 */
export function runtimeBase(runtime: string, memorySize: number, ctx: BaseContext): Launch {
  const paths = pathsFor(ctx);
  const env = commonVariables(paths);
  if (runtime.startsWith('python')) {
    // The python runtime client is laid out beside the others under the runtime dir.
    const minor = /^python3\.(\d+)/.exec(runtime)?.[1] ?? '11';
    env['LAMBDA_RUNTIME_DIR'] = `${paths.runtime}/python`;
    env['PYTHONPATH'] = [`${paths.runtime}/python`, `${paths.opt}/python`, `${paths.opt}/python/lib/python3.${minor}/site-packages`, paths.taskRoot].join(':');
    env['PYTHONUNBUFFERED'] = '1';
    // Lambda's /var/task is read-only: no __pycache__ written into the shared code folder.
    env['PYTHONDONTWRITEBYTECODE'] = '1';
    return { command: interpreterFor(runtime, ctx), args: [`${paths.runtime}/python/bootstrap.py`], env };
  }
  const major = /^nodejs(\d+)/.exec(runtime)?.[1] ?? '20';
  env['LAMBDA_RUNTIME_DIR'] = `${paths.runtime}/nodejs`;
  // Lambda's order: layers, then the runtime's SDK, then the code (whose own node_modules wins for its files).
  const sdk = ctx.pathView === 'lambda' ? `${LAMBDA_PATHS.runtime}/node_modules` : SDK_DIR;
  env['NODE_PATH'] = [`${paths.opt}/nodejs/node${major}/node_modules`, `${paths.opt}/nodejs/node_modules`, sdk, paths.taskRoot].join(':');
  // Lambda's Node.js runtime sizes the V8 heap from the function's memory.
  const heapMb = Math.floor(memorySize * 0.9);
  return { command: interpreterFor(runtime, ctx), args: [`--max-old-space-size=${heapMb}`, `${paths.runtime}/nodejs/bootstrap.js`], env };
}

/** The interpreter that runs Kindling's client for `runtime` (a Node.js or Python runtime name). */
export function interpreterFor(runtime: string, ctx: Pick<LaunchContext, 'nodeBinary' | 'pythonBinary'>): string {
  return runtime.startsWith('python') ? ctx.pythonBinary : ctx.nodeBinary;
}

/**
 * Variables an interpreter reads as it starts (Node's options and paths, Python's, the dynamic
 * loader's, the C library's locale and allocator): a runtime started before the function was
 * chosen has read them already, so a function that sets one starts its own runtime.
 */
const START_VARIABLES = /^(NODE_|UV_|PYTHON|LD_|LC_|MALLOC_|GLIBC_|OPENSSL_|SSL_CERT_|AWS_LAMBDA_EXEC_WRAPPER$)/;

/**
 * A function a pre-started runtime can run (prestart-pool.ts): Kindling's own Node.js or Python
 * client from a zip, no layers (so no extensions and nothing at /opt to show), and none of the
 * variables an interpreter reads only when it starts.
 */
export function prestartable(fn: FunctionRecord): boolean {
  return (
    fn.packageType !== 'Image' &&
    /^(nodejs|python)/.test(fn.runtime) &&
    (fn.layers?.length ?? 0) === 0 &&
    !Object.keys(fn.environment).some((name) => START_VARIABLES.test(name))
  );
}
