import {
  CreateFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type PublishLayerVersionCommandInput,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CodeStore, LayerView, zipFiles } from '../src/code/index.js';
import { LayerRegistry } from '../src/control-plane/index.js';
import { silentLogger, systemClock } from '../src/shared/index.js';
import { SqliteStore, type FunctionLayer } from '../src/store/index.js';
import { FileBlobStore } from '../src/store/blobs/file-blob-store.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:`;
const LAMBDA_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
const LINK = 0o120777;

async function rejects(call: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name, err.message);
    assert.equal(err.$metadata?.httpStatusCode, status);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function sha256(data: Buffer, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(data).digest(encoding);
}

describe('layers through the AWS SDK', () => {
  let server: TestServer;
  let zip1: Buffer;
  let zip2: Buffer;
  const publish = (input: Partial<PublishLayerVersionCommandInput> & { LayerName: string }) =>
    server.lambda.send(new PublishLayerVersionCommand({ Content: { ZipFile: zip1 }, ...input }));

  before(async () => {
    server = await startTestServer();
    zip1 = await zipFiles({ 'nodejs/node_modules/greet/index.js': 'module.exports = () => "hello v1";\n' });
    zip2 = await zipFiles({ 'nodejs/node_modules/greet/index.js': 'module.exports = () => "hello v2";\n' });
  });
  after(() => server.close());

  it('publishes versions 1 and 2 with Lambda ARNs, dates and content', async () => {
    const v1 = await publish({
      LayerName: 'shared',
      Description: 'greetings',
      LicenseInfo: 'MIT',
      CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x'],
      CompatibleArchitectures: ['x86_64'],
    });
    assert.equal(v1.Version, 1);
    assert.equal(v1.LayerArn, `${ARN}shared`);
    assert.equal(v1.LayerVersionArn, `${ARN}shared:1`);
    assert.equal(v1.Description, 'greetings');
    assert.equal(v1.LicenseInfo, 'MIT');
    assert.deepEqual(v1.CompatibleRuntimes, ['nodejs20.x', 'nodejs22.x']);
    assert.deepEqual(v1.CompatibleArchitectures, ['x86_64']);
    assert.match(v1.CreatedDate ?? '', LAMBDA_DATE);
    assert.equal(v1.Content?.CodeSha256, sha256(zip1, 'base64'));
    assert.equal(v1.Content?.CodeSize, zip1.length);

    const v2 = await publish({
      LayerName: 'shared',
      Content: { ZipFile: zip2 },
      CompatibleRuntimes: ['python3.12'],
      CompatibleArchitectures: ['arm64'],
    });
    assert.equal(v2.Version, 2);
    assert.equal(v2.LayerVersionArn, `${ARN}shared:2`);
    assert.equal(v2.Description, '');
    assert.equal(v2.LicenseInfo, undefined);
  });

  it('gets a version by name, by layer ARN and by version ARN', async () => {
    const byName = await server.lambda.send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 1 }));
    assert.equal(byName.LayerVersionArn, `${ARN}shared:1`);
    assert.equal(byName.Description, 'greetings');
    assert.equal(byName.Content?.CodeSha256, sha256(zip1, 'base64'));
    const byLayerArn = await server.lambda.send(new GetLayerVersionCommand({ LayerName: `${ARN}shared`, VersionNumber: 2 }));
    assert.equal(byLayerArn.Version, 2);
    const byArn = await server.lambda.send(new GetLayerVersionByArnCommand({ Arn: `${ARN}shared:2` }));
    assert.equal(byArn.LayerVersionArn, `${ARN}shared:2`);
    assert.deepEqual(byArn.CompatibleArchitectures, ['arm64']);
    await rejects(
      server.lambda.send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 9 })),
      'ResourceNotFoundException',
      404,
      /does not exist/,
    );
    await rejects(server.lambda.send(new GetLayerVersionByArnCommand({ Arn: `${ARN}nothere:1` })), 'ResourceNotFoundException', 404);
    await rejects(server.lambda.send(new GetLayerVersionByArnCommand({ Arn: `${ARN}shared` })), 'ValidationException', 400, /at 'arn'/);
    await rejects(
      server.lambda.send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 0 })),
      'InvalidParameterValueException',
      400,
      /Layer Version Cannot be less than 1/,
    );
  });

  it('serves the zip at Content.Location', async () => {
    const version = await server.lambda.send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 1 }));
    const response = await fetch(version.Content?.Location ?? '');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/zip');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), zip1);
    const unknown = await fetch(`${server.kindling.url}/kindling/layers/${'0'.repeat(64)}.zip`);
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });

  it('lists layers with their latest matching version, filtered and paged', async () => {
    await publish({ LayerName: 'other', CompatibleRuntimes: ['nodejs20.x'], CompatibleArchitectures: ['x86_64', 'arm64'] });
    await publish({ LayerName: 'plain' });

    const all = await server.lambda.send(new ListLayersCommand({}));
    assert.deepEqual(all.Layers?.map((layer) => layer.LayerName), ['other', 'plain', 'shared']);
    const shared = all.Layers?.find((layer) => layer.LayerName === 'shared');
    assert.equal(shared?.LayerArn, `${ARN}shared`);
    assert.equal(shared?.LatestMatchingVersion?.Version, 2);
    assert.equal(shared?.LatestMatchingVersion?.LayerVersionArn, `${ARN}shared:2`);
    assert.equal(all.NextMarker, undefined);

    const node = await server.lambda.send(new ListLayersCommand({ CompatibleRuntime: 'nodejs20.x' }));
    assert.deepEqual(
      node.Layers?.map((layer) => [layer.LayerName, layer.LatestMatchingVersion?.Version]),
      [['other', 1], ['shared', 1]],
    );
    const arm = await server.lambda.send(new ListLayersCommand({ CompatibleArchitecture: 'arm64' }));
    assert.deepEqual(arm.Layers?.map((layer) => [layer.LayerName, layer.LatestMatchingVersion?.Version]), [['other', 1], ['shared', 2]]);
    const both = await server.lambda.send(new ListLayersCommand({ CompatibleRuntime: 'python3.12', CompatibleArchitecture: 'x86_64' }));
    assert.deepEqual(both.Layers, []);

    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await server.lambda.send(new ListLayersCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }));
      assert.ok((page.Layers?.length ?? 0) <= 2);
      names.push(...(page.Layers ?? []).map((layer) => layer.LayerName ?? ''));
      marker = page.NextMarker;
    } while (marker);
    assert.deepEqual(names, ['other', 'plain', 'shared']);

    await rejects(server.lambda.send(new ListLayersCommand({ CompatibleRuntime: 'cobol' as never })), 'ValidationException', 400);
    await rejects(server.lambda.send(new ListLayersCommand({ MaxItems: 51 })), 'ValidationException', 400);
  });

  it('lists versions newest first, filtered and paged', async () => {
    const all = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'shared' }));
    assert.deepEqual(all.LayerVersions?.map((version) => version.Version), [2, 1]);
    assert.equal(all.LayerVersions?.[1]?.LicenseInfo, 'MIT');
    assert.match(all.LayerVersions?.[0]?.CreatedDate ?? '', LAMBDA_DATE);

    const node = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'shared', CompatibleRuntime: 'nodejs22.x' }));
    assert.deepEqual(node.LayerVersions?.map((version) => version.Version), [1]);

    const first = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'shared', MaxItems: 1 }));
    assert.deepEqual(first.LayerVersions?.map((version) => version.Version), [2]);
    assert.ok(first.NextMarker);
    const second = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'shared', MaxItems: 1, Marker: first.NextMarker }));
    assert.deepEqual(second.LayerVersions?.map((version) => version.Version), [1]);
    assert.equal(second.NextMarker, undefined);

    const none = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'never-published' }));
    assert.deepEqual(none.LayerVersions, []);
  });

  it('deletes a version: gone from Get and lists, its number never reused', async () => {
    await server.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'shared', VersionNumber: 2 }));
    await rejects(server.lambda.send(new GetLayerVersionCommand({ LayerName: 'shared', VersionNumber: 2 })), 'ResourceNotFoundException', 404);
    await rejects(server.lambda.send(new GetLayerVersionByArnCommand({ Arn: `${ARN}shared:2` })), 'ResourceNotFoundException', 404);
    const versions = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'shared' }));
    assert.deepEqual(versions.LayerVersions?.map((version) => version.Version), [1]);
    const layers = await server.lambda.send(new ListLayersCommand({ CompatibleArchitecture: 'arm64' }));
    assert.deepEqual(layers.Layers?.map((layer) => layer.LayerName), ['other']);
    // Deleting again (or something that never was) answers 204, as on Lambda.
    await server.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'shared', VersionNumber: 2 }));
    await server.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'never-published', VersionNumber: 1 }));

    const v3 = await publish({ LayerName: 'shared', Content: { ZipFile: zip2 } });
    assert.equal(v3.Version, 3);
    assert.equal(v3.LayerVersionArn, `${ARN}shared:3`);

    // Deleting the last version of a layer does not reset its numbering either.
    await server.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'plain', VersionNumber: 1 }));
    assert.equal((await publish({ LayerName: 'plain' })).Version, 2);
  });

  it("refuses what Lambda refuses, with Lambda's errors", async (t) => {
    const runtimes16 = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'java11', 'java17', 'java21', 'ruby3.2', 'ruby3.3', 'dotnet8', 'provided.al2', 'provided.al2023'];
    const cases: [string, Partial<PublishLayerVersionCommandInput> & { LayerName: string }, string, RegExp][] = [
      ['bad name', { LayerName: 'bad.name' }, 'ValidationException', /at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      ['long name', { LayerName: 'x'.repeat(141) }, 'ValidationException', /Member must have length less than or equal to 140/],
      ['too many runtimes', { LayerName: 'v', CompatibleRuntimes: runtimes16 as never }, 'ValidationException', /at 'compatibleRuntimes'.*less than or equal to 15/],
      ['unknown runtime', { LayerName: 'v', CompatibleRuntimes: ['cobol'] as never }, 'ValidationException', /enum value set/],
      ['too many architectures', { LayerName: 'v', CompatibleArchitectures: ['x86_64', 'arm64', 'x86_64'] }, 'ValidationException', /less than or equal to 2/],
      ['unknown architecture', { LayerName: 'v', CompatibleArchitectures: ['mips'] as never }, 'ValidationException', /\[x86_64, arm64\]/],
      ['long license', { LayerName: 'v', LicenseInfo: 'x'.repeat(513) }, 'ValidationException', /at 'licenseInfo'.*512/],
      ['long description', { LayerName: 'v', Description: 'x'.repeat(257) }, 'ValidationException', /at 'description'/],
      ['S3 content', { LayerName: 'v', Content: { S3Bucket: 'bucket', S3Key: 'layer.zip' } }, 'InvalidParameterValueException', /no S3.*Content\.ZipFile/],
      ['no zip', { LayerName: 'v', Content: {} }, 'InvalidParameterValueException', /Content\.ZipFile/],
      ['not a zip', { LayerName: 'v', Content: { ZipFile: Buffer.from('not a zip at all') } }, 'InvalidParameterValueException', /Could not unzip/],
    ];
    for (const [what, input, name, message] of cases) {
      await t.test(what, () => rejects(publish(input), name, 400, message));
    }
  });

  it('refuses an unsafe zip with nothing left behind and no version number used', async () => {
    // On PostgreSQL the blobs are in the database: no blobs/ in the data directory (and the store's check below).
    const listing = () =>
      ['code', 'blobs']
        .filter((dir) => existsSync(join(server.dataDir, dir)))
        .flatMap((dir) => readdirSync(join(server.dataDir, dir)).map((name) => `${dir}/${name}`))
        .sort();
    const beforeListing = listing();
    const unsafe = await zipFiles({ 'nodejs/ok.js': 'ok', 'lib/link': { content: '../../outside', mode: LINK } });
    await rejects(publish({ LayerName: 'unsafe', Content: { ZipFile: unsafe } }), 'InvalidParameterValueException', 400, /outside/);
    assert.deepEqual(listing(), beforeListing);
    assert.ok(!existsSync(join(server.dataDir, 'code', sha256(unsafe, 'hex'))));
    assert.equal(await server.kindling.store.blobs.has(sha256(unsafe, 'hex')), false, 'no blob stored');
    const versions = await server.lambda.send(new ListLayerVersionsCommand({ LayerName: 'unsafe' }));
    assert.deepEqual(versions.LayerVersions, []);
    assert.equal((await publish({ LayerName: 'unsafe' })).Version, 1);
  });
});

describe("a function's Layers (LayerRegistry.resolve)", () => {
  let dir: string;
  let store: SqliteStore;
  let layers: LayerRegistry;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-layers-'));
    store = new SqliteStore(':memory:');
    const partition = { region: REGION, accountId: ACCOUNT };
    layers = new LayerRegistry({ store, code: new CodeStore(dir, new FileBlobStore(dir)), partition, clock: systemClock, logger: silentLogger });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the layers in order with their code, and measures them', async () => {
    const a = await layers.publish('a', { Content: { ZipFile: (await zipFiles({ 'a.txt': 'a'.repeat(100) })).toString('base64') } });
    await layers.publish('a', { Content: { ZipFile: (await zipFiles({ 'a.txt': 'a'.repeat(300) })).toString('base64') } });
    const b = await layers.publish('b', { Content: { ZipFile: (await zipFiles({ 'b.txt': 'b'.repeat(20), 'l': { content: 'b.txt', mode: LINK } })).toString('base64') } });
    assert.equal(b.unzippedSize, 20 + 'b.txt'.length);
    const resolved = await layers.resolve([`${ARN}b:1`, `${ARN}a:2`]);
    assert.deepEqual(resolved.map((layer) => layer.arn), [`${ARN}b:1`, `${ARN}a:2`]);
    assert.equal(resolved[0]?.codeKey, b.codeKey);
    assert.equal(resolved[0]?.codeSize, b.codeSize);
    assert.equal(await layers.unzippedBytes(resolved), 25 + 300);
    assert.deepEqual(await layers.resolve(undefined), []);
    assert.deepEqual(await layers.resolve([]), []);

    // A deleted version still counts for the functions that have it, but cannot be added anew.
    await layers.delete('a', '1');
    assert.equal(await layers.unzippedBytes([{ arn: `${ARN}a:1`, codeKey: a.codeKey, codeSize: a.codeSize }]), 100);
    await assert.rejects(layers.resolve([`${ARN}a:1`]), { name: 'InvalidParameterValueException', message: `Layer version ${ARN}a:1 does not exist.` });
  });

  it("refuses what Lambda refuses, with Lambda's errors", async () => {
    const cases: [unknown, string, RegExp][] = [
      ['not-a-list', 'ValidationException', /Member must be a list/],
      [['arn:aws:lambda:us-east-1:000000000000:layer:a'], 'ValidationException', /at 'layers' failed to satisfy constraint: .*regular expression pattern/],
      [[42], 'ValidationException', /at 'layers'/],
      [Array.from({ length: 6 }, (_, i) => `${ARN}l${i}:1`), 'InvalidParameterValueException', /^Cannot reference more than 5 layers\.$/],
      [[`${ARN}nothere:1`], 'InvalidParameterValueException', /^Layer version arn:aws:lambda:us-east-1:000000000000:layer:nothere:1 does not exist\.$/],
      [['arn:aws:lambda:us-east-1:111111111111:layer:a:2'], 'InvalidParameterValueException', /does not exist/],
      [['arn:aws:lambda:::awslayer:AmazonLinux2'], 'InvalidParameterValueException', /does not exist/],
      [['arn:aws:lambda:eu-west-1:000000000000:layer:a:2'], 'InvalidParameterValueException', /^Layers are not in the same region as the function\. Layers are expected to be in region us-east-1\.$/],
      [[`${ARN}a:2`, `${ARN}b:1`, `${ARN}a:2`], 'InvalidParameterValueException', /^Two different versions of the same layer are not allowed to be referenced in the same function\. .*a:2 and .*a:2 are versions of the same layer\.$/],
    ];
    for (const [input, name, message] of cases) {
      await assert.rejects(layers.resolve(input), (err: Error) => {
        assert.equal(err.name, name, `${JSON.stringify(input)}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

/** Every entry under `root`: type, permission bits and content (or link target). */
function snapshot(root: string, relative = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, relative)).sort()) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = lstatSync(join(root, path));
    const mode = (stats.mode & 0o777).toString(8);
    if (stats.isDirectory()) out.push(`dir ${path} ${mode}`, ...snapshot(root, path));
    else if (stats.isSymbolicLink()) out.push(`link ${path} -> ${readlinkSync(join(root, path))}`);
    else out.push(`file ${path} ${mode} ${sha256(readFileSync(join(root, path)), 'hex')}`);
  }
  return out;
}

describe('LayerView: /opt', () => {
  let dir: string;
  let code: CodeStore;
  let view: LayerView;
  const layer = async (files: Parameters<typeof zipFiles>[0]): Promise<FunctionLayer> => {
    const stored = await code.put(await zipFiles(files));
    return { arn: `${ARN}x:${stored.key.slice(0, 6)}`, codeKey: stored.key, codeSize: stored.size };
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-opt-'));
    code = new CodeStore(dir, new FileBlobStore(dir));
    view = new LayerView(dir, code);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined without layers', async () => {
    assert.equal(await view.optDir([]), undefined);
  });

  it('merges the layers in order, later ones winning, never writable by others, rebuilt identically', async () => {
    const first = await layer({
      'nodejs/node_modules/shared/index.js': 'module.exports = "first";\n',
      'nodejs/node_modules/only-first/index.js': 'module.exports = 1;\n',
      'bin/tool': { content: '#!/bin/sh\necho tool\n', mode: 0o755 },
      'conflict': 'a file in the first layer',
      'gone/deep.txt': 'replaced by a file in the second layer',
    });
    const second = await layer({
      'nodejs/node_modules/shared/index.js': 'module.exports = "second";\n',
      'conflict/inner.txt': 'a folder in the second layer',
      'gone': 'now a file',
      'lib/alias': { content: '../nodejs/node_modules/shared/index.js', mode: LINK },
    });
    const [opt, again] = await Promise.all([view.optDir([first, second]), view.optDir([first, second])]);
    assert.ok(opt);
    assert.equal(again, opt);
    assert.equal(readFileSync(join(opt, 'nodejs/node_modules/shared/index.js'), 'utf8'), 'module.exports = "second";\n');
    assert.equal(readFileSync(join(opt, 'nodejs/node_modules/only-first/index.js'), 'utf8'), 'module.exports = 1;\n');
    assert.equal(readFileSync(join(opt, 'conflict/inner.txt'), 'utf8'), 'a folder in the second layer');
    assert.equal(readFileSync(join(opt, 'gone'), 'utf8'), 'now a file');
    assert.equal(readFileSync(join(opt, 'lib/alias'), 'utf8'), 'module.exports = "second";\n');
    assert.equal(lstatSync(join(opt, 'bin/tool')).mode & 0o777, 0o755);

    const before = snapshot(opt);
    for (const line of before) {
      const mode = /^(?:dir|file) \S+ ([0-7]+)/.exec(line)?.[1];
      if (mode !== undefined) assert.equal(Number.parseInt(mode, 8) & 0o022, 0, `writable by group or others: ${line}`);
    }
    assert.equal(lstatSync(opt).mode & 0o777, 0o755);
    // The order is part of the address: the other order is another folder, with the other winner.
    const reversed = await view.optDir([second, first]);
    assert.notEqual(reversed, opt);
    assert.equal(readFileSync(join(reversed!, 'nodejs/node_modules/shared/index.js'), 'utf8'), 'module.exports = "first";\n');

    rmSync(opt, { recursive: true });
    assert.equal(await view.optDir([first, second]), opt);
    assert.deepEqual(snapshot(opt), before);
    assert.deepEqual(readdirSync(join(dir, 'opt')).filter((name) => name.includes('.tmp-')), []);
  });

  it('leaves out a link that merging would turn into a way out of /opt', async () => {
    // Alone, each layer is safe: `e -> d/up/..` resolves to `d`, and `d/up -> ..` to the root.
    const upper = await layer({ 'd/up/': '', 'e': { content: 'd/up/..', mode: LINK }, 'f': 'file' });
    const climber = await layer({ 'd/up': { content: '..', mode: LINK } });
    const opt = await view.optDir([upper, climber]);
    assert.ok(opt);
    assert.equal(readlinkSync(join(opt, 'd/up')), '..');
    assert.ok(!readdirSync(opt).includes('e'), 'e would resolve to the parent of /opt');
    // The other way round `d/up` is a folder again and `e` is harmless.
    const safe = await view.optDir([climber, upper]);
    assert.equal(readlinkSync(join(safe!, 'e')), 'd/up/..');
  });

  it('unpacks a layer again from its blob if its tree is gone', async () => {
    const lost = await layer({ 'python/lost.py': 'x = 1\n' });
    rmSync(code.codePath(lost.codeKey), { recursive: true });
    const opt = await view.optDir([lost]);
    assert.equal(readFileSync(join(opt!, 'python/lost.py'), 'utf8'), 'x = 1\n');
  });
});

describe('a function finds modules in its layers', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('requires from /opt/nodejs/node_modules and /opt/nodejs/node20/node_modules, and survives the layer being deleted', async () => {
    const lib = await server.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'lib',
        Content: {
          ZipFile: await zipFiles({
            'nodejs/node_modules/greet/index.js': 'module.exports = (n) => `hello ${n}`;\n',
            'nodejs/node_modules/shadowed/index.js': 'module.exports = "lib";\n',
          }),
        },
      }),
    );
    const overrides = await server.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'overrides',
        Content: {
          ZipFile: await zipFiles({
            'nodejs/node_modules/shadowed/index.js': 'module.exports = "overrides";\n',
            'nodejs/node20/node_modules/versioned/index.js': 'module.exports = "node20";\n',
          }),
        },
      }),
    );
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'with-layers',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Layers: [lib.LayerVersionArn!, overrides.LayerVersionArn!],
        Code: {
          ZipFile: await zipFiles({
            'index.js': `
              exports.handler = async () => ({
                greet: require('greet')('layers'),
                shadowed: require('shadowed'),
                versioned: require('versioned'),
              });`,
          }),
        },
      }),
    );
    const config = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'with-layers' }));
    assert.deepEqual(
      config.Layers?.map((layer) => [layer.Arn, layer.CodeSize]),
      [[lib.LayerVersionArn, lib.Content?.CodeSize], [overrides.LayerVersionArn, overrides.Content?.CodeSize]],
    );
    const expected = { greet: 'hello layers', shadowed: 'overrides', versioned: 'node20' };
    const first = await server.lambda.send(new InvokeCommand({ FunctionName: 'with-layers' }));
    assert.equal(first.FunctionError, undefined, Buffer.from(first.Payload ?? []).toString());
    assert.deepEqual(json(first.Payload), expected);

    // Deleting the layer versions does not break the function, even in a fresh environment.
    await server.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'lib', VersionNumber: 1 }));
    await server.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'overrides', VersionNumber: 1 }));
    await server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'with-layers', Environment: { Variables: { FRESH: '1' } } }));
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'with-layers' });
    const second = await server.lambda.send(new InvokeCommand({ FunctionName: 'with-layers' }));
    assert.deepEqual(json(second.Payload), expected);
  });
});
