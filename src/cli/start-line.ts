import { join } from 'node:path';
import type { Kindling } from '../app.js';
import type { KindlingConfig } from '../config/index.js';

/**
 * The one line `kindling serve` prints once it runs: where it listens, then what it chose (store,
 * sandbox) and where its data is, so a newcomer sees at once what they are running. Tests and
 * benchmarks read its start: "... serving the Lambda API on <url> " and "Kindling node <id> (<roles>) is running".
 */
export function startLine(config: KindlingConfig, kindling: Pick<Kindling, 'url' | 'nodeId' | 'fleetPort' | 'fleet' | 'sandbox' | 'urlPort'>): string {
  const running = kindling.url
    ? `Kindling is serving the Lambda API on ${kindling.url}${kindling.urlPort === undefined ? '' : ` and function URLs on port ${kindling.urlPort}`}`
    : `Kindling node ${kindling.nodeId} (${config.roles.join(',')}) is running${kindling.fleetPort === undefined ? '' : `, serving the fleet on port ${kindling.fleetPort}`}`;
  // Who may call it: an operator should never have to guess whether the API is open.
  const auth = kindling.url ? `auth: ${config.auth === 'sigv4' ? 'sigv4' : 'none (loopback only)'}; ` : '';
  return `${running} (${auth}store: ${describeStore(config)}; sandbox: ${describeSandbox(config, kindling)}; data: ${config.dataDir})\n`;
}

/** `SQLite <path>`, or `PostgreSQL user@host:port/database`: never the password. */
export function describeStore(config: Pick<KindlingConfig, 'store' | 'dataDir'>): string {
  if (!config.store) return `SQLite ${join(config.dataDir, 'kindling.db')}`;
  let url: URL;
  try {
    url = new URL(config.store);
  } catch {
    return 'PostgreSQL';
  }
  // A Unix socket is given as ?host=/run/postgresql, with no host in the authority.
  const host = url.host || url.searchParams.get('host') || 'localhost';
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  return `PostgreSQL ${user}${host}${url.pathname === '/' ? '' : url.pathname}`;
}

/**
 * The default driver, how it was chosen (`auto` falls back from namespace to process), and the
 * others functions may ask for by tag. A node without the worker role runs no sandbox.
 */
function describeSandbox(config: Pick<KindlingConfig, 'sandbox'>, kindling: Pick<Kindling, 'fleet' | 'sandbox'>): string {
  if (!kindling.fleet) return 'none on this node (no worker role)';
  const { defaultDriver, allowed } = kindling.sandbox;
  const how =
    config.sandbox !== 'auto' ? '' : defaultDriver === 'namespace' ? ' (auto)' : ` (auto: namespace not available here, fell back to ${defaultDriver})`;
  const others = allowed.filter((name) => name !== defaultDriver);
  return `${defaultDriver}${how}${others.length > 0 ? `, functions may ask for ${others.join(', ')}` : ''}`;
}
