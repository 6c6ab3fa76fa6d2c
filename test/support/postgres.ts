import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A real, throwaway PostgreSQL for tests, from Debian's `postgresql` package: initdb into a temp
 * directory as the `postgres` user, the server listening on a loopback port and a unix socket in
 * that directory, trust authentication, no fsync (a test cluster need not survive a power cut).
 * No Docker: CI installs the package (.ci/run).
 */

const VERSIONS_DIR = '/usr/lib/postgresql';
/** Checked for readiness this often; every check is a real connection attempt. */
const READY_POLL_MS = 50;
const READY_LIMIT_MS = 30_000;

/** The directory holding initdb and postgres (the newest installed major version), if any. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(VERSIONS_DIR)) return undefined;
  const versions = readdirSync(VERSIONS_DIR)
    .filter((v) => existsSync(join(VERSIONS_DIR, v, 'bin', 'initdb')) && existsSync(join(VERSIONS_DIR, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(VERSIONS_DIR, versions[0], 'bin');
}

/** Why a test cluster cannot start on this machine (tests skip with it), or false. */
export function postgresUnavailable(): string | false {
  const bin = postgresBinDir();
  if (bin === undefined) return `PostgreSQL is not installed (no ${VERSIONS_DIR}/*/bin/initdb; apt-get install postgresql)`;
  if (!existsSync(join(bin, 'psql'))) return `psql is missing from ${bin} (postgresql-client)`;
  if (process.getuid?.() === 0 && postgresUser() === undefined) return 'running as root, and there is no postgres user to run the server as';
  return false;
}

/** uid and gid of the `postgres` user: PostgreSQL refuses to run as root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

export interface PostgresClusterOptions {
  /** Extra server settings (`-c name=value`). */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Runs the server on another "machine" instead of this one's loopback: a network namespace of
   * the fleet lab (`NetnsHost`, test/support/netns.ts). It listens on the host's address (port 5432
   * unless `port` says otherwise), trusts the host's subnet, and every psql the cluster runs
   * (readiness, createDatabase, query) runs in that namespace too.
   */
  readonly host?: PostgresHost;
  /** The port on `host` (a namespace of its own has every port free). */
  readonly port?: number;
}

/** Where a server runs: an address, the network trusted to connect, and how to run a program there. */
export interface PostgresHost {
  readonly address: string;
  /** CIDR, e.g. `10.213.7.0/24`: pg_hba.conf trusts it. */
  readonly subnet: string;
  command(file: string, args: readonly string[], user?: { readonly uid: number; readonly gid: number }): { file: string; args: string[] };
}

/** Turns a program and its arguments into the command that runs it where the server is. */
type Wrap = (file: string, args: string[]) => { file: string; args: string[] };
const here: Wrap = (file, args) => ({ file, args });

/** One test cluster: `start()` it, `createDatabase()` per test, `stop()` when done. */
export class PostgresCluster {
  readonly dir: string;
  readonly #bin: string;
  readonly #user: { uid: number; gid: number } | undefined;
  readonly #settings: Readonly<Record<string, string>>;
  readonly #host: PostgresHost | undefined;
  /** How psql reaches the server: where it listens. */
  readonly #wrap: Wrap;
  #port = 0;
  #server: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #log = '';
  #stopped = false;
  readonly #onExit = () => this.#killNow();

  private constructor(bin: string, options: PostgresClusterOptions) {
    this.#bin = bin;
    this.#settings = options.settings ?? {};
    this.#user = process.getuid?.() === 0 ? postgresUser() : undefined;
    this.#host = options.host;
    const host = options.host;
    this.#wrap = host ? (file, args) => host.command(file, args) : here;
    if (host) this.#port = options.port ?? 5432;
    this.dir = mkdtempSync(join(tmpdir(), 'kindling-pg-'));
    if (this.#user) chownSync(this.dir, this.#user.uid, this.#user.gid);
  }

  /** initdb and start a fresh cluster; fails with the reason if PostgreSQL cannot run here. */
  static async start(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
    const why = postgresUnavailable();
    if (why) throw new Error(why);
    const cluster = new PostgresCluster(postgresBinDir()!, options);
    process.once('exit', cluster.#onExit);
    try {
      await cluster.#initdb();
      await cluster.startServer();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  get port(): number {
    return this.#port;
  }

  /** `postgres://postgres@127.0.0.1:PORT` (the host's address on a lab host): append `/<database>` for a connection string. */
  get baseUrl(): string {
    return `postgres://postgres@${this.#host?.address ?? '127.0.0.1'}:${this.#port}`;
  }

  /** The unix socket directory (for `host=` in a libpq connection string). */
  get socketDir(): string {
    return join(this.dir, 'sock');
  }

  url(database: string): string {
    return `${this.baseUrl}/${database}`;
  }

  /** Creates an empty database; returns its connection string. */
  async createDatabase(name: string): Promise<string> {
    checkName(name);
    await serially(this.baseUrl, () => psql(this.#bin, this.url('postgres'), `CREATE DATABASE ${name}`, this.#wrap));
    return this.url(name);
  }

  /** The database `name`, created if it does not exist yet; returns its connection string. */
  async ensureDatabase(name: string): Promise<string> {
    return ensureDatabase(this.baseUrl, name, this.#bin, this.#wrap);
  }

  /** Runs SQL through psql; returns its unaligned, tuples-only output. */
  async query(sql: string, database = 'postgres'): Promise<string> {
    return psql(this.#bin, this.url(database), sql, this.#wrap);
  }

  /** Starts the server on the cluster's data (on the port it had, if it had one); resolves once it accepts connections. */
  async startServer(): Promise<void> {
    if (this.#server) throw new Error('the test PostgreSQL is running already');
    const samePort = this.#port !== 0;
    for (let attempt = 0; ; attempt++) {
      if (!samePort) this.#port = await freePort();
      try {
        await this.#launch();
        return;
      } catch (err) {
        // Another process took the port between our look and postgres' bind: try again.
        const clash = /could not bind|already in use/i.test(this.#log);
        if (!clash || attempt >= 10) throw err;
      }
    }
  }

  /**
   * Stops the server and keeps the data: `fast` (SIGINT) rolls back open transactions and closes
   * connections cleanly; `immediate` (SIGQUIT) is a crash, recovered from at the next start.
   */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await this.#exited;
    this.#server = undefined;
  }

  /** A restart under running clients: their connections drop, the data stays, the port stays. */
  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.stopServer(mode);
    await this.startServer();
  }

  /** Fast shutdown, and the cluster's directory removed. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    process.off('exit', this.#onExit);
    await this.stopServer('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the server printed (its log), for a failure message. */
  get log(): string {
    return this.#log;
  }

  async #initdb(): Promise<void> {
    const data = join(this.dir, 'data');
    await this.#run(join(this.#bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    mkdirSync(this.socketDir);
    if (this.#user) chownSync(this.socketDir, this.#user.uid, this.#user.gid);
    // The other lab hosts connect over TCP from their own addresses.
    if (this.#host) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${this.#host.subnet} trust\n`);
  }

  async #launch(): Promise<void> {
    this.#log = '';
    const settings: Record<string, string> = {
      listen_addresses: this.#host?.address ?? '127.0.0.1',
      port: String(this.#port),
      unix_socket_directories: this.socketDir,
      // A test cluster need not survive a power cut: no fsync makes it quick on shared cores.
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      // Many Kindling servers (each with its pool), several stores per contract test.
      max_connections: '300',
      shared_buffers: '32MB',
      ...this.#settings,
    };
    const args = ['-D', join(this.dir, 'data'), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    // In a lab host nsenter (root) enters the namespace, then becomes the postgres user and execs postgres in place.
    const command = this.#host?.command(join(this.#bin, 'postgres'), args, this.#user);
    const server = command
      ? spawn(command.file, command.args, { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(join(this.#bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...(this.#user ?? {}) });
    this.#server = server;
    server.stderr!.setEncoding('utf8');
    server.stderr!.on('data', (chunk: string) => {
      this.#log = (this.#log + chunk).slice(-64 * 1024);
    });
    this.#exited = new Promise((resolve) => server.once('exit', (code) => resolve(code)));
    let ended = false;
    void this.#exited.then(() => {
      ended = true;
    });
    const deadline = Date.now() + READY_LIMIT_MS;
    for (;;) {
      if (await accepts(this.#bin, this.url('postgres'), this.#wrap)) return;
      if (ended || Date.now() > deadline) {
        if (!ended) server.kill('SIGQUIT');
        await this.#exited;
        this.#server = undefined;
        throw new Error(`the test PostgreSQL did not start on ${this.#host?.address ?? '127.0.0.1'}:${this.#port}:\n${this.#log}`);
      }
      await Promise.race([new Promise((r) => setTimeout(r, READY_POLL_MS)), this.#exited]);
    }
  }

  /** Runs a PostgreSQL program as the postgres user (it refuses root). */
  #run(file: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(file, args, { ...(this.#user ?? {}), cwd: this.dir, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} failed: ${stderr || err.message}`, { cause: err }));
        else resolve(stdout);
      });
    });
  }

  /** On a test process's exit without stop(): no server left behind (immediate shutdown). */
  #killNow(): void {
    this.#server?.kill('SIGQUIT');
  }
}

/** CREATE DATABASE one at a time per server, within this process: two at once may find one name free. */
const creating = new Map<string, Promise<unknown>>();

function serially<T>(key: string, work: () => Promise<T>): Promise<T> {
  const result = (creating.get(key) ?? Promise.resolve()).then(work, work);
  creating.set(key, result.catch(() => {}));
  return result;
}

/**
 * The database `name` on the server at `baseUrl` (`postgres://user@host:port`), created if missing;
 * returns its connection string. For test servers given only the base URL (KINDLING_TEST_STORE).
 */
export async function ensureDatabase(baseUrl: string, name: string, bin = postgresBinDir(), wrap: Wrap = here): Promise<string> {
  checkName(name);
  if (bin === undefined) throw new Error(postgresUnavailable() || 'PostgreSQL is not installed');
  const admin = `${baseUrl}/postgres`;
  await serially(baseUrl, async () => {
    const found = await psql(bin, admin, `SELECT 1 FROM pg_database WHERE datname = '${name}'`, wrap);
    if (found.trim() === '') await psql(bin, admin, `CREATE DATABASE ${name}`, wrap);
  });
  return `${baseUrl}/${name}`;
}

/** Drops the database, closing whatever connections are left on it (PostgreSQL 13+). */
export async function dropDatabase(baseUrl: string, name: string, bin = postgresBinDir()): Promise<void> {
  checkName(name);
  if (bin === undefined) throw new Error(postgresUnavailable() || 'PostgreSQL is not installed');
  await psql(bin, `${baseUrl}/postgres`, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** A database name for a data directory: the same directory always gets the same database. */
export function databaseNameFor(dataDir: string): string {
  return `kindling_${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 24)}`;
}

/** A fresh database name, for a test of its own. */
export function uniqueDatabaseName(prefix = 'kindling_t'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

function checkName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
}

function psql(bin: string, url: string, sql: string, wrap: Wrap = here): Promise<string> {
  const command = wrap(join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql]);
  return new Promise((resolve, reject) => {
    execFile(
      command.file,
      command.args,
      { encoding: 'utf8', env: { ...process.env, PGCONNECT_TIMEOUT: '5' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`psql ${url} -c "${sql}": ${stderr || err.message}`, { cause: err }));
        else resolve(stdout);
      },
    );
  });
}

/** A real connection attempt: the server accepts connections and answers a query. */
async function accepts(bin: string, url: string, wrap: Wrap): Promise<boolean> {
  try {
    return (await psql(bin, url, 'SELECT 1', wrap)).trim() === '1';
  } catch {
    return false;
  }
}

/** A port free on 127.0.0.1 just now (the caller retries if another process takes it first). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
