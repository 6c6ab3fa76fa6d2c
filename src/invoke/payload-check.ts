import { isUtf8 } from 'node:buffer';
import { InvalidRequestContentException } from '../shared/index.js';

const EMPTY_EVENT = Buffer.from('{}');
const PREFIX = 'Could not parse request body into json: Could not parse payload into json:';

/**
 * Lambda takes only JSON events, in UTF-8; an empty body is the empty object. Bytes that are not
 * UTF-8 are refused (Lambda: "Invalid UTF-8 start byte 0x97"), never turned into U+FFFD: the
 * function would get another event than the caller sent.
 */
export function checkPayload(payload: Buffer): Buffer {
  if (payload.length === 0) return EMPTY_EVENT;
  if (!isUtf8(payload)) throw new InvalidRequestContentException(`${PREFIX} ${describeInvalidUtf8(payload)}`);
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new InvalidRequestContentException(`${PREFIX} ${(err as Error).message}`, { cause: err });
  }
  return payload;
}

/** The first byte that breaks UTF-8, named as Lambda (Jackson) names it, with its line and column. */
export function describeInvalidUtf8(bytes: Buffer): string {
  let line = 1;
  let column = 1;
  for (let i = 0; i < bytes.length; column++) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return `Invalid UTF-8 start byte 0x${hex(lead)} (line ${line}, column ${column})`;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined) return `Unexpected end-of-input in a UTF-8 sequence (line ${line}, column ${column})`;
      if ((next & 0xc0) !== 0x80) {
        return `Invalid UTF-8 middle byte 0x${hex(next)} (line ${line}, column ${column})`;
      }
    }
    // Well-formed in shape but an overlong form or a surrogate: the lead byte is what is wrong.
    if (!isUtf8(bytes.subarray(i, i + length))) return `Invalid UTF-8 start byte 0x${hex(lead)} (line ${line}, column ${column})`;
    if (lead === 0x0a) {
      line++;
      column = 0;
    }
    i += length;
  }
  return 'Invalid UTF-8';
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
