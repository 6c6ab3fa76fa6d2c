import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeStore, startLine } from '../src/cli/start-line.js';
import { loadConfig, SERVE_OPTIONS } from '../src/config/index.js';
import { CLI, kindling } from './support/cli.js';
import { testStoreFor } from './support/kindling.js';
import { listeningUrl } from './support/serve-process.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('kindling serve --help and --version', () => {
  for (const flag of ['--help', '-h']) {
    it(`serve ${flag} prints every flag with its default and variable, and exits 0`, async () => {
      const run = await kindling(['serve', flag]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.match(run.stdout, /^Usage: kindling serve \[options\]\n/);
      for (const name of Object.keys(SERVE_OPTIONS)) {
        const variable = `KINDLING_${name.toUpperCase().replaceAll('-', '_')}`;
        const line = run.stdout.split('\n').find((l) => l.startsWith(`  --${name} `));
        assert.ok(line, `--${name} is not listed`);
        assert.match(line, new RegExp(`\\(default: [^;]+; ${variable}\\)$`), line);
      }
      assert.match(run.stdout, /^ {2}--port <port> +port of the Lambda API.*\(default: 9000; KINDLING_PORT\)$/m);
    });
  }

  it('names the variables serve really reads', () => {
    // The help derives each variable from its flag: check that the config reads it so.
    const config = loadConfig([], { KINDLING_DATA_DIR: '/tmp/kindling-env-dir', KINDLING_MAX_CONCURRENT_INITS: '3', KINDLING_RETRY_DELAY_SCALE: '0.5' });
    assert.equal(config.dataDir, '/tmp/kindling-env-dir');
    assert.equal(config.maxConcurrentInits, 3);
    assert.equal(config.retryDelayScale, 0.5);
  });

  for (const args of [['--version'], ['-v'], ['version'], ['serve', '--version'], ['serve', '-v']]) {
    it(`kindling ${args.join(' ')} prints the version from package.json and exits 0`, async () => {
      const run = await kindling(args);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${VERSION}\n`);
      assert.equal(run.stderr, '');
    });
  }

  it('kindling help lists version and points to serve --help', async () => {
    const run = await kindling(['help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^ {2}version +print Kindling's version/m);
    assert.match(run.stdout, /kindling serve --help/);
  });

  it('an unknown serve flag is still a usage error', async () => {
    const run = await kindling(['serve', '--no-such-flag']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^kindling serve: Unknown option '--no-such-flag'/);
  });
});

describe('the line kindling serve prints at start', () => {
  it('names the address, the store, the sandbox driver and the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kindling-serve-line-'));
    const store = await testStoreFor(dataDir);
    // No --sandbox: `auto`, whose choice the line must tell.
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--url-port', '0', '--log-level', 'warn', '--data-dir', dataDir, ...(store ? ['--store', store] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const line = await listeningUrl(child.stdout, exited, () => `:\n${stderr}`, /^(Kindling is serving the Lambda API on .*)\n/m);
      const url = /on (http:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1];
      assert.ok(url, line);
      assert.equal((await fetch(`${url}/2015-03-31/functions/`)).status, 200, 'the address printed is the API');
      const storePart = store ? /store: PostgreSQL \S+;/ : new RegExp(`store: SQLite ${join(dataDir, 'kindling.db')};`);
      assert.match(line, storePart);
      assert.match(line, /sandbox: (namespace \(auto\)|process \(auto: namespace not available here, fell back to process\))[;,]/);
      assert.ok(line.endsWith(`data: ${dataDir})`), line);
      if (store) assert.ok(!line.includes(new URL(store).password || '\0'), 'the password is not printed');
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('tells an explicit driver, the others allowed, and a fleet node without a sandbox', () => {
    const config = loadConfig(['--sandbox', 'process', '--allow-sandbox', 'process,namespace', '--data-dir', '/srv/kindling']);
    const node = { url: 'http://127.0.0.1:9000', nodeId: 'n1', fleet: {} as never, sandbox: { defaultDriver: 'process', allowed: ['process', 'namespace'] } };
    assert.equal(
      startLine(config, node),
      'Kindling is serving the Lambda API on http://127.0.0.1:9000 (auth: none (loopback only); store: SQLite /srv/kindling/kindling.db; sandbox: process, functions may ask for namespace; data: /srv/kindling)\n',
    );
    const poller = loadConfig(['--role', 'poller', '--store', 'postgres://k:pw@db:5432/fleet', '--data-dir', '/srv/kindling']);
    assert.equal(
      startLine(poller, { url: '', nodeId: 'n2', sandbox: node.sandbox }),
      'Kindling node n2 (poller) is running (store: PostgreSQL k@db:5432/fleet; sandbox: none on this node (no worker role); data: /srv/kindling)\n',
    );
  });

  it('describes a PostgreSQL store without its password', () => {
    assert.equal(describeStore({ dataDir: '/d', store: 'postgres://kindling:s3cret@db.example:5433/fleet' }), 'PostgreSQL kindling@db.example:5433/fleet');
    assert.equal(describeStore({ dataDir: '/d', store: 'postgresql:///fleet?host=/run/postgresql' }), 'PostgreSQL /run/postgresql/fleet');
    assert.equal(describeStore({ dataDir: '/d' }), 'SQLite /d/kindling.db');
  });
});
