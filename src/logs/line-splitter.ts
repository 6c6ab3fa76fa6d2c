import type { Readable } from 'node:stream';
import { MAX_EVENT_BYTES } from './log-sink.js';

/**
 * Cuts a runtime's output into log events: one per line. Lambda's runtimes write a multi-line
 * message with `\r` for its inner newlines so that it stays one event; those become `\n` again here.
 */
export function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let text = rest + chunk;
    let start = 0;
    let end: number;
    while ((end = text.indexOf('\n', start)) !== -1) {
      emit(text.slice(start, end), onLine);
      start = end + 1;
    }
    text = text.slice(start);
    // A line with no end in sight is cut rather than held forever.
    while (text.length > MAX_EVENT_BYTES) {
      emit(text.slice(0, MAX_EVENT_BYTES), onLine);
      text = text.slice(MAX_EVENT_BYTES);
    }
    rest = text;
  });
  stream.on('end', () => {
    if (rest.length > 0) emit(rest, onLine);
    rest = '';
  });
}

function emit(line: string, onLine: (line: string) => void): void {
  onLine(line.includes('\r') ? line.replaceAll('\r', '\n') : line);
}
