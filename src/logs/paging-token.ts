import type { LogPosition } from '../store/index.js';
import { InvalidParameterException } from './log-errors.js';

/*
 * Paging tokens: opaque to clients, base64url of a small JSON tuple naming the last item a page
 * returned (an event's (timestamp, id), a stream's or group's name). A position, not an offset,
 * so a token stays right while new events and streams arrive.
 */

/**
 * A place in a group's events with a direction: `f/...` reads on after it, `b/...` reads back
 * before it. GetLogEvents hands out both; FilterLogEvents keeps its first request's direction.
 */
export class EventToken {
  /** Before every event: forward from here reads all of them. */
  static readonly head = new EventToken('f', { timestamp: 0, id: 0 });
  /** After every event: backward from here reads all of them. */
  static readonly tail = new EventToken('b', { timestamp: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER });

  readonly #text: string;

  constructor(
    readonly direction: 'f' | 'b',
    readonly position: LogPosition,
    text?: string,
  ) {
    this.#text = text ?? `${direction}/${encode([position.timestamp, position.id])}`;
  }

  /** A token as a client sends it back; kept verbatim, so an unchanged place is the same string. */
  static parse(token: string): EventToken {
    const direction = token.slice(0, 2);
    if (direction !== 'f/' && direction !== 'b/') throw invalid();
    const [timestamp, id] = decode(token.slice(2), 2);
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(id)) throw invalid();
    return new EventToken(direction === 'f/' ? 'f' : 'b', { timestamp: timestamp as number, id: id as number }, token);
  }

  /**
   * The same place read the other way. Ids are integers, so "after (t, id - 1)" starts at the
   * event (t, id) and "before (t, id + 1)" ends with it.
   */
  turned(): EventToken {
    const { timestamp, id } = this.position;
    return this.direction === 'f' ? new EventToken('b', { timestamp, id: id + 1 }) : new EventToken('f', { timestamp, id: id - 1 });
  }

  toString(): string {
    return this.#text;
  }
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
