import { readdirSync, readFileSync } from 'node:fs';

/**
 * The host processes whose real uid is `uid`, from /proc/<pid>/status (the owner of /proc/<pid>
 * will not do: a process that makes itself non-dumpable shows as root's there). A process
 * sandbox's uid is its own, so these are exactly the sandbox's processes, wherever they went
 * (a daemon that left the process group included).
 */
export function processesOf(uid: number): number[] {
  const found: number[] = [];
  const want = `\nUid:\t${uid}\t`;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    try {
      if (readFileSync(`/proc/${entry}/status`, 'latin1').includes(want)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** SIGKILL to every process of `uid`; true when none is left. */
export function killAllOf(uid: number): boolean {
  for (const pid of processesOf(uid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return processesOf(uid).length === 0;
}
