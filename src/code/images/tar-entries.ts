/**
 * Reading tars (image layers, image archives) entry by entry, with the path rules of zip intake:
 * no absolute names, no `..`, no NUL, names escaped before they reach a message.
 */
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { ImageFormatError } from './oci-manifest.js';

/** PATH_MAX (4096) less the terminating NUL. */
export const MAX_NAME = 4095;

export type TarHeader = tarStream.Header;

/** The normalized segments of an entry name; empty for the root itself (`./`). Throws for unsafe names. */
export function entrySegments(name: string, where: string): string[] {
  if (name.includes('\0')) throw refuse(where, name, 'has a NUL character in its name');
  if (name.length > MAX_NAME) throw refuse(where, name, `has a name longer than ${MAX_NAME} bytes`);
  if (name.startsWith('/')) throw refuse(where, name, 'has an absolute name, outside the image root');
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw refuse(where, name, "has '..' in its name, outside the image root");
  return segments;
}

export function refuse(where: string, name: string, why: string): ImageFormatError {
  return new ImageFormatError(`${where}: entry '${show(name)}' ${why}`);
}

/** Names come from the image: control characters are escaped before they reach a message. */
export function show(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Calls `onEntry` for each entry of the tar `input`, in order, one at a time. The entry's data
 * must be read to its end (or left to be drained). Malformed tar data is an ImageFormatError;
 * errors of `input` and of `onEntry` pass through as they are.
 */
export async function eachTarEntry(
  input: Readable,
  where: string,
  onEntry: (header: TarHeader, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const extract = tarStream.extract();
  let inputError: unknown;
  let stopped = false;
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (extract.destroyed) break;
        if (!extract.write(chunk)) await drained(extract);
      }
      if (!extract.destroyed) extract.end(null);
    } catch (err) {
      // Once the reader has stopped (and destroyed the input), the input's complaint is not news.
      if (!stopped) inputError = err;
      extract.destroy(err as Error);
    }
  })();
  try {
    for await (const entry of extract) {
      await onEntry(entry.header, entry as AsyncIterable<Buffer>);
      // What the callback did not read is skipped here, so the next header can be reached.
      entry.resume();
    }
  } catch (err) {
    stopped = true;
    input.destroy();
    await feeding;
    if (inputError !== undefined) throw inputError;
    if (err instanceof Error && !(err instanceof ImageFormatError) && (err as NodeJS.ErrnoException).code === undefined) {
      // tar-stream's own parse errors ("Invalid tar header", "Unexpected end of data").
      throw new ImageFormatError(`${where} is not a valid tar: ${err.message}`, { cause: err });
    }
    throw err;
  }
  await feeding;
  if (inputError !== undefined) throw inputError;
}

/** Resolves when the writable can take more, or is gone (its reader stopped early). */
function drained(extract: tarStream.Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      extract.off('drain', done);
      extract.off('close', done);
      resolve();
    };
    extract.on('drain', done);
    extract.on('close', done);
  });
}
