/**
 * Code reaches every machine (issue 11): artifacts live in the store's blob store, each data
 * directory only caches unpacked trees. "Another machine" is a second server with its own, empty
 * data directory on the same store (a SQLite database and blob folder outside both data dirs), so
 * nothing it runs can come from the first server's files.
 */
import { CreateFunctionCommand, GetFunctionCommand, GetLayerVersionCommand, InvokeCommand, PublishLayerVersionCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CodeStore, zipFiles } from '../src/code/index.js';
import { selectSandboxes } from '../src/sandbox/index.js';
import { createLogger, KindlingError } from '../src/shared/index.js';
import { FileBlobStore } from '../src/store/blobs/file-blob-store.js';
import { SqliteStore, type BlobStore } from '../src/store/index.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { APP_LAYER, BASH_LAYER, buildImage, HOST_ARCHITECTURE, SETTINGS, writeOciLayout } from './support/oci-images.js';

const handler = (marker: string) => `exports.handler = async () => ({ marker: ${JSON.stringify(marker)} });\n`;

describe('code through the blob store: a second machine', () => {
  let shared: string;
  const dataDirs: string[] = [];
  let server: TestServer | undefined;
  const zips: Record<string, Buffer> = {};
  let layerZip: Buffer;
  let layerArn: string;

  /** A server with a data directory of its own (fresh unless given) on the shared store. */
  const start = async (dataDir?: string): Promise<TestServer> => {
    const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'kindling-machine-'));
    if (!dataDir) dataDirs.push(dir);
    server = await startTestServer({}, dir, { openStore: () => new SqliteStore(join(shared, 'kindling.db'), shared) });
    return server;
  };
  const stop = async (): Promise<void> => {
    await server?.close();
    server = undefined;
  };
  const invoke = async (name: string) => {
    const out = await server!.lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    return json(out.Payload);
  };

  before(async () => {
    shared = mkdtempSync(join(tmpdir(), 'kindling-shared-'));
    const a = await start();
    for (const name of ['plain', 'lost']) {
      const input = await nodeFunction(name, handler(`${name} code`));
      zips[name] = Buffer.from(input.Code!.ZipFile!);
      await a.lambda.send(new CreateFunctionCommand(input));
    }
    layerZip = await zipFiles({ 'nodejs/node_modules/greet/index.js': 'module.exports = (n) => `hello ${n} from the layer`;\n' });
    const layer = await a.lambda.send(new PublishLayerVersionCommand({ LayerName: 'greet', Content: { ZipFile: layerZip } }));
    layerArn = layer.LayerVersionArn!;
    await a.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'layered',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Layers: [layerArn],
        Code: { ZipFile: await zipFiles({ 'index.js': "exports.handler = async () => ({ greeting: require('greet')('B') });\n" }) },
      }),
    );
    assert.deepEqual(await invoke('plain'), { marker: 'plain code' });
    await stop();
    // The code of `lost` disappears from the shared store (the one case a machine cannot repair).
    rmSync(join(shared, 'blobs', `${CodeStore.describe(zips['lost']!).key}.zip`), { force: true });
    await start();
  });
  after(async () => {
    await stop();
    for (const dir of [shared, ...dataDirs]) rmSync(dir, { recursive: true, force: true });
  });

  it("runs a function created on another machine, unpacking its zip from the blob store into this machine's cache", async () => {
    const key = CodeStore.describe(zips['plain']!).key;
    assert.equal(existsSync(join(shared, 'blobs', `${key}.zip`)), true, "the zip is in the store's blobs");
    assert.equal(existsSync(join(server!.dataDir, 'code', key)), false);
    assert.deepEqual(await invoke('plain'), { marker: 'plain code' });
    assert.equal(existsSync(join(server!.dataDir, 'code', key)), true);
    assert.deepEqual(
      readdirSync(join(server!.dataDir, 'code')).filter((name) => name.includes('.tmp-')),
      [],
      'the fetched zip and the unpacking folder are gone',
    );
  });

  it("builds /opt from a layer published on another machine", async () => {
    assert.deepEqual(await invoke('layered'), { greeting: 'hello B from the layer' });
  });

  it('serves the exact zips at Code.Location and Content.Location, from the blob store', async () => {
    const fn = await server!.lambda.send(new GetFunctionCommand({ FunctionName: 'plain' }));
    const download = await fetch(fn.Code!.Location!);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zips['plain']);
    const layer = await server!.lambda.send(new GetLayerVersionCommand({ LayerName: 'greet', VersionNumber: 1 }));
    const layerDownload = await fetch(layer.Content!.Location!);
    assert.equal(layerDownload.status, 200);
    assert.deepEqual(Buffer.from(await layerDownload.arrayBuffer()), layerZip);
  });

  it('answers a ServiceException for code missing from the blob store, and goes on serving', async () => {
    await rejectsWith(server!.lambda.send(new InvokeCommand({ FunctionName: 'lost' })), 'ServiceException', 500);
    const fn = await server!.lambda.send(new GetFunctionCommand({ FunctionName: 'lost' }));
    const download = await fetch(fn.Code!.Location!);
    assert.equal(download.status, 404);
    await download.body?.cancel();
    assert.deepEqual(await invoke('plain'), { marker: 'plain code' });
  });

  it('refills a cache emptied while the server was down (same data directory, restarted)', async () => {
    const dir = server!.dataDir;
    await stop();
    for (const name of readdirSync(join(dir, 'code'))) if (name !== 'package.json') rmSync(join(dir, 'code', name), { recursive: true });
    rmSync(join(dir, 'opt'), { recursive: true });
    await start(dir);
    assert.deepEqual(await invoke('plain'), { marker: 'plain code' });
    assert.deepEqual(await invoke('layered'), { greeting: 'hello B from the layer' });
  });
});

/** Images run where a sandbox shows them as `/`: the namespace driver (as in images.test.ts). */
async function namespaceUnavailable(): Promise<string | false> {
  try {
    const selection = await selectSandboxes({ sandbox: 'namespace', dataDir: tmpdir() }, createLogger('error'));
    return selection.defaultDriver.runsImages ? false : 'the namespace sandbox does not run images here';
  } catch (err) {
    return `the namespace sandbox is not available here: ${(err as Error).message}`;
  }
}
const imageSkip = await namespaceUnavailable();
if (imageSkip) console.log(`# image case skipped: ${imageSkip}`);

describe('an image function on a second machine', { skip: imageSkip }, () => {
  let work: string;
  const servers: TestServer[] = [];
  const start = async (): Promise<TestServer> => {
    const server = await startTestServer({ sandbox: 'namespace' }, undefined, {
      openStore: () => new SqliteStore(join(work, 'shared', 'kindling.db'), join(work, 'shared')),
    });
    servers.push(server);
    return server;
  };
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kindling-image-machines-'));
  });
  after(async () => {
    for (const server of servers) await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('rebuilds the root file system from the blob store, with the image source gone', async () => {
    const layout = join(work, 'layout');
    writeOciLayout(layout, await buildImage([BASH_LAYER, APP_LAYER], SETTINGS), 'v1');
    const a = await start();
    const created = await a.lambda.send(
      new CreateFunctionCommand({ FunctionName: 'image', PackageType: 'Image', Role: ROLE, Code: { ImageUri: `oci:${layout}:v1` }, Architectures: [HOST_ARCHITECTURE] }),
    );
    await a.close();
    servers.pop();
    rmSync(layout, { recursive: true });

    const b = await start();
    const key = created.CodeSha256!; // an image's CodeSha256 is its manifest's hex digest, its code key
    assert.equal(existsSync(join(b.dataDir, 'code', key)), false);
    const out = await b.lambda.send(new InvokeCommand({ FunctionName: 'image', Payload: Buffer.from('{"from":"B"}') }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    const body = json(out.Payload) as Record<string, unknown>;
    assert.deepEqual(body['event'], { from: 'B' });
    assert.equal(body['greeting'], 'hello from the image');
    assert.equal(existsSync(join(b.dataDir, 'code', key, 'var', 'task', 'bootstrap')), true);
  });
});

describe('CodeStore.ensure', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-ensure-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('unpacks a missing tree once for concurrent callers', async () => {
    const blobs = new FileBlobStore(join(dir, 'shared'));
    let reads = 0;
    const counting: BlobStore = {
      has: (key) => blobs.has(key),
      put: (key, data) => blobs.put(key, data),
      read: (key) => {
        reads++;
        return blobs.read(key);
      },
    };
    const zip = await zipFiles({ 'index.js': handler('once'), 'lib/a.txt': 'a' });
    const { key } = await new CodeStore(join(dir, 'a'), counting).put(zip);
    const b = new CodeStore(join(dir, 'b'), counting);
    const paths = await Promise.all([1, 2, 3, 4, 5].map(() => b.ensure(key)));
    assert.deepEqual(new Set(paths), new Set([join(dir, 'b', 'code', key)]));
    assert.equal(reads, 1);
    assert.deepEqual(readdirSync(join(dir, 'b', 'code')).sort(), [key, 'package.json']);
    assert.deepEqual(readdirSync(paths[0]!).sort(), ['index.js', 'lib']);
  });

  it('refuses a key the blob store does not hold with ERR_CODE_MISSING', async () => {
    const code = new CodeStore(join(dir, 'c'), new FileBlobStore(join(dir, 'empty')));
    await assert.rejects(code.ensure('ab'.repeat(32)), (err: unknown) => err instanceof KindlingError && err.code === 'ERR_CODE_MISSING');
    await assert.rejects(code.ensure('../x'), (err: unknown) => err instanceof KindlingError && err.code === 'ERR_CODE_MISSING');
  });
});

describe('FileBlobStore', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-blobs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses bytes that do not hash to their key and leaves nothing behind', async () => {
    const blobs = new FileBlobStore(dir);
    const bytes = Buffer.from('the real bytes');
    const other = CodeStore.describe(Buffer.from('other bytes')).key;
    await assert.rejects(blobs.put(other, bytes), (err: unknown) => err instanceof KindlingError && err.code === 'ERR_BLOB_DIGEST');
    const streamed = (async function* () {
      yield new Uint8Array(bytes);
    })();
    await assert.rejects(blobs.put(other, streamed), (err: unknown) => err instanceof KindlingError && err.code === 'ERR_BLOB_DIGEST');
    assert.deepEqual(readdirSync(join(dir, 'blobs')), []);
    assert.equal(await blobs.has(other), false);
    assert.equal(await blobs.read(other), undefined);
  });

  it('only knows keys that are hex SHA-256 digests (no path outside its folder)', async () => {
    writeFileSync(join(dir, 'outside.zip'), 'not a blob');
    const blobs = new FileBlobStore(dir);
    assert.equal(await blobs.has('../outside'), false);
    assert.equal(await blobs.read('../outside'), undefined);
    await assert.rejects(blobs.put('../outside', Buffer.from('x')), (err: unknown) => err instanceof KindlingError && err.code === 'ERR_BLOB_DIGEST');
    assert.deepEqual(readdirSync(dir).sort(), ['blobs', 'outside.zip']);
  });
});
