import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Linux gives up resolving a path after 40 links (MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

/**
 * Finds `path` (absolute, as seen inside the sandbox) in an unpacked image root on the host,
 * following links the way the kernel will once `root` is the sandbox's `/` (an absolute target
 * starts again at the root, `..` stops there). Returns the host path and its mode, or undefined.
 */
export function lookupInRoot(root: string, path: string): { hostPath: string; mode: number } | undefined {
  const current: string[] = [];
  const pending = path.split('/');
  let hops = 0;
  for (let segment = pending.shift(); segment !== undefined; segment = pending.shift()) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      current.pop();
      continue;
    }
    const hostPath = join(root, ...current, segment);
    let info;
    try {
      info = lstatSync(hostPath);
    } catch {
      return undefined;
    }
    if (info.isSymbolicLink()) {
      if (++hops > MAX_LINK_HOPS) return undefined;
      const target = readlinkSync(hostPath);
      if (target.startsWith('/')) current.length = 0;
      pending.unshift(...target.split('/'));
      continue;
    }
    if (pending.some((s) => s !== '' && s !== '.') && !info.isDirectory()) return undefined;
    current.push(segment);
  }
  const hostPath = join(root, ...current);
  try {
    return { hostPath, mode: statSync(hostPath).mode };
  } catch {
    return undefined;
  }
}
