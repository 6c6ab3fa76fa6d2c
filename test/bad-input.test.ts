import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeInvalidUtf8 } from '../src/invoke/payload-check.js';
import { KindlingError } from '../src/shared/index.js';
import { kindling } from './support/cli.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { json, sqliteOnly, startTestServer, type TestServer } from './support/kindling.js';

describe('a database file that is not a Kindling database is refused at start', { skip: sqliteOnly('how a damaged kindling.db is refused') }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-baddb-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function refused(dataDir: string, why: RegExp): Promise<void> {
    await assert.rejects(startTestServer({}, dataDir), (err: Error) => {
      assert.ok(err instanceof KindlingError, String(err));
      assert.equal(err.code, 'ERR_STORE_DAMAGED');
      assert.match(err.message, why);
      assert.match(err.message, /Restore it from a backup, or move it away/);
      return true;
    });
  }

  it('an empty (truncated) file: refused, and left as it was', async () => {
    const dataDir = join(dir, 'empty');
    writeFileSync(join(mkdirp(dataDir), 'kindling.db'), '');
    await refused(dataDir, /kindling\.db cannot be used: it exists but is empty \(0 bytes\)/);
    assert.equal(statSync(join(dataDir, 'kindling.db')).size, 0);
  });

  it('a SQLite file without Kindling’s schema, or with tables missing: refused', async () => {
    const foreign = join(dir, 'foreign');
    const other = new Database(join(mkdirp(foreign), 'kindling.db'));
    other.exec('CREATE TABLE notes (text TEXT)');
    other.close();
    await refused(foreign, /it holds no Kindling schema/);

    // A real Kindling database whose events table is gone.
    const damaged = join(dir, 'damaged');
    const server = await startTestServer({}, damaged);
    await server.close();
    const db = new Database(join(damaged, 'kindling.db'));
    db.exec('DROP TABLE events');
    db.close();
    await refused(damaged, /lacks the tables events/);
  });

  it('`kindling serve` says so in one line and exits 1; a brand-new data directory still starts empty', async () => {
    const dataDir = join(dir, 'cli');
    writeFileSync(join(mkdirp(dataDir), 'kindling.db'), '');
    const run = await kindling(['serve', '--port', '0', '--url-port', '0', '--sandbox', 'process', '--data-dir', dataDir]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kindling: KindlingError: The database .*kindling\.db cannot be used: it exists but is empty/m);
    assert.equal(readFileSync(join(dataDir, 'kindling.db')).length, 0);

    const fresh = await startTestServer({}, join(dir, 'fresh'));
    await fresh.close();
  });
});

describe('invoke payloads that are not UTF-8', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('echo')));
  });
  after(() => server.close());

  it('are refused with 400 InvalidRequestContentException, sync and event alike, naming the bad byte', async () => {
    const latin1 = Buffer.from('{"name":"caf\xe9"}', 'latin1');
    for (const InvocationType of ['RequestResponse', 'Event'] as const) {
      await rejectsWith(
        server.lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType, Payload: latin1 })),
        'InvalidRequestContentException',
        400,
        /^Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 middle byte 0x22/,
      );
    }
    // The same text in UTF-8 reaches the function unchanged.
    const ok = await server.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"name":"café"}') }));
    assert.deepEqual(json(ok.Payload), { ok: true, event: { name: 'café' } });
  });

  it('name the first byte that breaks UTF-8 as Lambda does', () => {
    assert.equal(describeInvalidUtf8(Buffer.from([0x7b, 0xff])), 'Invalid UTF-8 start byte 0xff (line 1, column 2)');
    assert.equal(describeInvalidUtf8(Buffer.from([0x22, 0xc3, 0x28])), 'Invalid UTF-8 middle byte 0x28 (line 1, column 2)');
    assert.equal(describeInvalidUtf8(Buffer.from('"a\n\u00ff"', 'latin1')), 'Invalid UTF-8 start byte 0xff (line 2, column 1)');
    assert.match(describeInvalidUtf8(Buffer.from([0x22, 0xe2, 0x82])), /^Unexpected end-of-input/);
    // Overlong forms and surrogates are not UTF-8 either.
    assert.equal(describeInvalidUtf8(Buffer.from([0xc0, 0xaf])), 'Invalid UTF-8 start byte 0xc0 (line 1, column 1)');
    assert.equal(describeInvalidUtf8(Buffer.from([0x41, 0xed, 0xa0, 0x80])), 'Invalid UTF-8 start byte 0xed (line 1, column 2)');
  });
});

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
