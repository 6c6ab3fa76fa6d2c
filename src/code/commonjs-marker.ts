import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurablySync } from './durable.js';

const COMMONJS_MARKER = '{"type":"commonjs"}\n';

/**
 * Node decides whether a `.js` file is CommonJS from the nearest package.json; this one, in `dir`,
 * stops the search there, so a project's own `"type": "module"` above the data dir never leaks
 * into function code (Lambda's /var/task and /opt have nothing above them). Checked on every
 * start: a power cut can leave it empty, and an empty package.json breaks every function's import.
 */
export function markCommonjs(dir: string): void {
  const marker = join(dir, 'package.json');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== COMMONJS_MARKER) writeFileDurablySync(marker, COMMONJS_MARKER);
}
