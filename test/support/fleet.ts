import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKindling, type Kindling } from '../../src/app.js';
import { loadConfig, type KindlingConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/shared/index.js';
import { testStoreBase } from './kindling.js';
import { PostgresCluster, postgresUnavailable, uniqueDatabaseName } from './postgres.js';

/**
 * Why fleet tests skip: they start a PostgreSQL of their own, so they run in the suite's first
 * pass only, not again in the PostgreSQL pass (KINDLING_TEST_STORE), which would repeat them.
 */
export function fleetSkip(): string | false {
  return testStoreBase() === undefined ? postgresUnavailable() : 'the fleet tests ran in the first pass, on a PostgreSQL of their own';
}

/** One node of an in-process fleet: a `startKindling` with roles, its own data directory. */
export interface FleetNode {
  readonly kindling: Kindling;
  readonly dataDir: string;
  close(): Promise<void>;
}

/**
 * A fleet in one test process on a throwaway PostgreSQL (real nodes, real fleet wire on loopback,
 * real sandboxes): what the multi-host test does with namespaces, without the processes.
 */
export class TestFleet {
  readonly url: string;
  readonly #cluster: PostgresCluster;
  readonly #nodes: FleetNode[] = [];

  private constructor(cluster: PostgresCluster, url: string) {
    this.#cluster = cluster;
    this.url = url;
  }

  static async start(): Promise<TestFleet> {
    const cluster = await PostgresCluster.start();
    const url = await cluster.createDatabase(uniqueDatabaseName('kindling_fleet'));
    return new TestFleet(cluster, url);
  }

  /** Starts a node with these roles (`api`, `worker`, `poller`, comma-separated). */
  async node(role: string, overrides: Partial<KindlingConfig> = {}, argv: string[] = []): Promise<FleetNode> {
    const dataDir = mkdtempSync(join(tmpdir(), 'kindling-fleet-'));
    const config = loadConfig(['--role', role, '--store', this.url, '--fleet-port', '0', ...argv], {}, { port: 0, urlPort: 0, dataDir, sandbox: 'process', ...overrides });
    const kindling = await startKindling(config, { logger: createLogger(process.env['KINDLING_TEST_LOG'] ? 'debug' : 'error') });
    let closed: Promise<void> | undefined;
    const node: FleetNode = {
      kindling,
      dataDir,
      close: () =>
        (closed ??= kindling.close().finally(() => rmSync(dataDir, { recursive: true, force: true }))),
    };
    this.#nodes.push(node);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.#nodes.map((node) => node.close()));
    await this.#cluster.stop();
  }
}
