import type { SandboxExit } from './sandbox.js';

/**
 * Shutdown as every driver does it: ask the runtime to stop (`terminate`), give it `graceMs` to
 * exit, then `kill`. Settles with the exit, however it came.
 */
export async function terminateThenKill(
  exited: Promise<SandboxExit>,
  terminate: () => void,
  kill: () => void,
  graceMs: number,
): Promise<SandboxExit> {
  terminate();
  const timer = setTimeout(kill, graceMs);
  const exit = await exited;
  clearTimeout(timer);
  return exit;
}
