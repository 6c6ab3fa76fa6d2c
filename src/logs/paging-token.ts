import type { LogPosition } from '../store/index.js';
import { InvalidParameterException } from './log-errors.js';

/**
 * Paging tokens: opaque to clients, base64url of a small JSON tuple naming the last item a page
 * returned (an event's (timestamp, id), a stream's or group's name). A position, not an offset,
 * so a token stays right while new events and streams arrive.
 */
export function encodePosition(position: LogPosition): string {
  return encode([position.timestamp, position.id]);
}

export function decodePosition(token: string): LogPosition {
  const [timestamp, id] = decode(token, 2);
  if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(id)) throw invalid();
  return { timestamp: timestamp as number, id: id as number };
}

export function encodeName(name: string): string {
  return encode([name]);
}

export function decodeName(token: string): string {
  const [name] = decode(token, 1);
  if (typeof name !== 'string') throw invalid();
  return name;
}

export function encodeStreamCursor(cursor: { name: string; lastEventTime: number }): string {
  return encode([cursor.name, cursor.lastEventTime]);
}

export function decodeStreamCursor(token: string): { name: string; lastEventTime: number } {
  const [name, lastEventTime] = decode(token, 2);
  if (typeof name !== 'string' || !Number.isSafeInteger(lastEventTime)) throw invalid();
  return { name, lastEventTime: lastEventTime as number };
}

function encode(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function decode(token: string, length: number): unknown[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw invalid(err);
  }
  if (!Array.isArray(parts) || parts.length !== length) throw invalid();
  return parts;
}

function invalid(cause?: unknown): InvalidParameterException {
  return new InvalidParameterException('The specified nextToken is invalid.', cause === undefined ? undefined : { cause });
}
