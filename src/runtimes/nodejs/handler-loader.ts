/**
 * Finds and loads the function's handler from `_HANDLER`, the way Lambda's Node.js runtime does:
 * `<path/module>.<export>[.<nested>...]`, trying `<module>`, `.js`, `.mjs`, `.cjs` in that order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from './errors.js';

export type Handler = (event: unknown, context: unknown, callback: unknown) => unknown;

// Required modules name the bootstrap in their "Require stack", as Lambda's name its entry point.
const requireFromBootstrap = createRequire(new URL('./bootstrap.js', import.meta.url));

interface HandlerName {
  /** Folder part, relative to the task root, with its trailing slash (`lib/`), or ''. */
  moduleRoot: string;
  /** File name without extension (`app`). */
  module: string;
  /** Export path inside the module (`handler`, `nested.fn`). */
  exportPath: string[];
}

/**
 * The module is everything up to the first dot of the last path segment, so folders may contain
 * dots (`my.dir/index.handler`) and exports may nest (`index.api.get`).
 */
export function parseHandlerName(handler: string): HandlerName {
  if (handler.includes('..')) {
    throw new MalformedHandlerName(
      "'../' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    );
  }
  const slash = handler.lastIndexOf('/');
  const moduleRoot = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  const module = base.slice(0, dot);
  const exportPath = base.slice(dot + 1).split('.');
  if (dot <= 0 || exportPath.some((part) => part === '')) {
    throw new MalformedHandlerName(`Bad handler ${handler}`);
  }
  return { moduleRoot, module, exportPath };
}

/** Nearest package.json from `folder` up to the task root decides whether `.js` is ESM. */
function isTypeModule(folder: string, taskRoot: string): boolean {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    const packageJson = path.join(dir, 'package.json');
    if (existsSync(packageJson)) {
      try {
        return (JSON.parse(readFileSync(packageJson, 'utf8')) as { type?: unknown }).type === 'module';
      } catch (err) {
        console.warn(`${packageJson} cannot be read, it will be ignored for ES module detection purposes.`, err);
        return false;
      }
    }
    if (dir === taskRoot || dir === path.dirname(dir)) return false;
  }
}

async function importFile(file: string): Promise<unknown> {
  return import(pathToFileURL(file).href);
}

function requireFile(file: string): unknown {
  return requireFromBootstrap(file);
}

async function requireOrImport(file: string): Promise<unknown> {
  try {
    return requireFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM') return importFile(file);
    throw err;
  }
}

async function loadModule(taskRoot: string, name: HandlerName): Promise<unknown> {
  const moduleRoot = path.resolve(taskRoot, name.moduleRoot);
  const base = path.join(moduleRoot, name.module);
  // An extensionless file is required as CommonJS, as Lambda does.
  if (existsSync(base)) return requireFile(base);
  if (existsSync(`${base}.js`)) {
    return isTypeModule(moduleRoot, taskRoot) ? importFile(`${base}.js`) : requireOrImport(`${base}.js`);
  }
  if (existsSync(`${base}.mjs`)) return importFile(`${base}.mjs`);
  if (existsSync(`${base}.cjs`)) return requireFile(`${base}.cjs`);
  // Last, a package of that name (node_modules or NODE_PATH). When that fails too, Node's own
  // "Cannot find module '<module>'\nRequire stack:..." is the message Lambda shows.
  return requireFile(requireFromBootstrap.resolve(name.module, { paths: [taskRoot, moduleRoot] }));
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

/**
 * Loads the module (awaiting top-level await) and returns the handler function. Throws Lambda's
 * init errors: Runtime.MalformedHandlerName, Runtime.ImportModuleError, Runtime.UserCodeSyntaxError,
 * Runtime.HandlerNotFound; any other error the module throws at import is reported as it is.
 */
export async function loadHandler(taskRoot: string, handler: string): Promise<Handler> {
  const name = parseHandlerName(handler);
  let loaded: unknown;
  try {
    loaded = await loadModule(taskRoot, name);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(err, { cause: err });
    if (isModuleNotFound(err)) throw new ImportModuleError(err, { cause: err });
    throw err;
  }
  let fn: unknown = loaded;
  for (const key of name.exportPath) {
    fn = fn === null || fn === undefined ? undefined : (fn as Record<string, unknown>)[key];
  }
  if (fn === undefined || fn === null) throw new HandlerNotFound(`${handler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${handler} is not a function`);
  return fn as Handler;
}
