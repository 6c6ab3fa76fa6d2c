import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..', 'node_modules');

/**
 * The files of npm packages installed in the project (and of everything they depend on), laid out
 * as `node_modules/<name>/...` for a function's zip: how a user ships express or middy with a handler.
 */
export function packageFiles(names: readonly string[]): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const seen = new Set<string>();
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = join(ROOT, name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    queue.push(...Object.keys(manifest.dependencies ?? {}));
    addTree(dir, `node_modules/${name}`, files);
  }
  return files;
}

function addTree(dir: string, prefix: string, files: Record<string, Buffer>): void {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.endsWith('.md') || entry.endsWith('.d.ts') || entry.endsWith('.map')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) addTree(path, `${prefix}/${entry}`, files);
    else files[`${prefix}/${entry}`] = readFileSync(path);
  }
}
