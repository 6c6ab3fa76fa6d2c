/**
 * Lambda's text log format: console.* calls become one stdout line each,
 * `<ISO time>\t<request id>\t<LEVEL>\t<message>`.
 */
import { writeSync } from 'node:fs';
import { format } from 'node:util';

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

// Lambda prints the literal `undefined` for lines written outside an invocation (during init).
let currentRequestId = 'undefined';

/** Set at the start of each invocation; stays until the next one, as on Lambda. */
export function setRequestId(requestId: string): void {
  currentRequestId = requestId;
}

/**
 * Writes synchronously so a line is on the host's pipe before the response that follows it is
 * posted. A pipe made non-blocking by user code (process.stdout) can answer EAGAIN: retry until the
 * host drains it rather than lose the line.
 */
function writeStdout(text: string): void {
  const written = writeOnce(text);
  if (written === Buffer.byteLength(text)) return;
  const bytes = Buffer.from(text);
  let offset = written;
  while (offset < bytes.length) offset += writeOnce(bytes, offset);
}

function writeOnce(data: string | Buffer, offset = 0): number {
  try {
    return typeof data === 'string' ? writeSync(1, data) : writeSync(1, data, offset);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    throw err;
  }
}

export function log(level: LogLevel, message: string): void {
  // Lambda turns newlines into \r so one console call stays one log event.
  const text = message.includes('\n') ? message.replaceAll('\n', '\r') : message;
  writeStdout(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text}\n`);
}

function logger(level: LogLevel): (...args: unknown[]) => void {
  return (...args) => log(level, format(...args));
}

/** Replaces console's methods, as Lambda's runtime does before loading the handler. */
export function patchConsole(): void {
  const info = logger('INFO');
  console.log = info;
  console.info = info;
  console.warn = logger('WARN');
  console.error = logger('ERROR');
  console.debug = logger('DEBUG');
  // Lambda's console.trace logs the message at TRACE level, without a stack.
  console.trace = logger('TRACE');
  // Lambda adds console.fatal.
  (console as unknown as Record<string, unknown>)['fatal'] = logger('FATAL');
}
