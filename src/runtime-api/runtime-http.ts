import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorPayload } from './invocation.js';

/** The Runtime API's small HTTP answers and readers, shared by the endpoint and the stream reader. */

const ACCEPTED = Buffer.from('{"status":"OK"}');

export function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const data = status === 202 ? ACCEPTED : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a body up to `limit` bytes; `undefined` means it was longer. */
export function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) over = true;
    else chunks.push(chunk);
  });
  req.on('end', () => done(over ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

/** A runtime's error body, kept as sent when it is a JSON object, else wrapped the way Lambda does. */
export function normalizeError(errorType: string, body: Buffer | undefined): Buffer {
  if (body && body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return body;
    } catch {
      // not JSON: wrapped below
    }
  }
  return errorPayload(errorType, body && body.length > 0 ? body.toString('utf8') : errorType);
}
