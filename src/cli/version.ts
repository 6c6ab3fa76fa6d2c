import { readFileSync } from 'node:fs';

/**
 * Kindling's version, from its package.json: read at run time beside the module (dist/src/cli/ ->
 * the package root), so a release never prints a number written into the code.
 */
export function kindlingVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
