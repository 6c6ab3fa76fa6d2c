import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

/** Waits for a condition the server reaches on its own timers (retries, reaping), bounded in time. */
export async function eventually(check: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `eventually` for checks that need to ask the server. Resolves with the last value seen. */
export async function eventuallyAsync<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, limitMs = 15_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** The JSON lines a test function appended to `file`. */
export function records<T = Record<string, any>>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
