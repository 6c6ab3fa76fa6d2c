import { setTimeout as delay } from 'node:timers/promises';
import { SqliteStore, type Store } from '../../src/store/index.js';

/**
 * The SQLite store, answering every operation `ms` late, as a store across a network does. SQLite
 * itself answers within the same turn of the event loop, which hides a check and a write that an
 * await now separates; this one shows them.
 */
export function openSlowStore(ms = 5): (path: string) => Store {
  return (path) => {
    const store = new SqliteStore(path);
    const slow = <T extends object>(table: T): T =>
      new Proxy(table, {
        get(target, prop) {
          const value: unknown = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await delay(ms);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    return {
      functions: slow(store.functions),
      logs: slow(store.logs),
      events: slow(store.events),
      deadLetters: slow(store.deadLetters),
      eventConfigs: slow(store.eventConfigs),
      versions: slow(store.versions),
      aliases: slow(store.aliases),
      concurrency: slow(store.concurrency),
      layerVersions: slow(store.layerVersions),
      blobs: slow(store.blobs),
      nodes: slow(store.nodes),
      grants: slow(store.grants),
      rolePolicies: slow(store.rolePolicies),
      keys: slow(store.keys),
      policies: slow(store.policies),
      functionUrls: slow(store.functionUrls),
      changes: store.changes,
      kind: store.kind,
      close: () => store.close(),
    };
  };
}
