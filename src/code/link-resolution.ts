/** Linux gives up resolving a path after 40 links (MAXSYMLINKS): a longer chain is refused. */
export const MAX_LINK_HOPS = 40;

/**
 * Resolves a symlink of a tree the way the kernel will once the tree is written, following the
 * tree's other links: `e -> d/up/..` with `d/up -> ..` looks inside lexically but climbs out.
 * `targets` maps each link's path (relative, `/`-separated) to its target.
 */
export function resolveLink(linkPath: string, targets: ReadonlyMap<string, string>): 'inside' | 'outside' | 'loop' {
  const first = targets.get(linkPath) ?? '';
  if (first.startsWith('/')) return 'outside';
  const current = linkPath.split('/').slice(0, -1);
  const pending = first.split('/');
  let hops = 1;
  for (let segment = pending.shift(); segment !== undefined; segment = pending.shift()) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (current.pop() === undefined) return 'outside';
      continue;
    }
    current.push(segment);
    const next = targets.get(current.join('/'));
    if (next === undefined) continue;
    if (++hops > MAX_LINK_HOPS) return 'loop';
    if (next.startsWith('/')) return 'outside';
    current.pop();
    pending.unshift(...next.split('/'));
  }
  return 'inside';
}
