/**
 * Container image functions (PackageType Image), through the AWS SDK. The images are built here
 * with node (test/support/oci-images.ts): a layer with the host's bash and its libraries, and a
 * layer with a Lambda runtime client written in bash (HTTP over /dev/tcp), so the image runs on
 * its own as the sandbox's `/`. Registry cases push to Debian's docker-registry on loopback.
 */
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, lstatSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { imageName, ImageUriError, parseImageUri } from '../src/code/images/image-reference.js';
import { selectSandboxes } from '../src/sandbox/index.js';
import { createLogger } from '../src/shared/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';
import {
  buildImage,
  HOST_ARCHITECTURE,
  HOST_PLATFORM,
  hostProgramEntries,
  indexOf,
  pushImage,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  type TarEntry,
  type TestImage,
  APP_LAYER,
  BOOTSTRAP,
  BASH_LAYER,
  SETTINGS,
} from './support/oci-images.js';

/** A Lambda runtime client in bash: one HTTP/1.1 connection per Runtime API call, over /dev/tcp. */
type LambdaError = Error & { $metadata?: { httpStatusCode?: number } };

async function rejects(call: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: LambdaError) => {
    assert.equal(err.name, name, `${err.name}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  });
}

function imageFunction(name: string, imageUri: string, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommand {
  return new CreateFunctionCommand({
    FunctionName: name,
    PackageType: 'Image',
    Role: ROLE,
    Code: { ImageUri: imageUri },
    Architectures: [HOST_ARCHITECTURE],
    ...extra,
  });
}

/** Nothing half-written stays behind after a refused image: no temporary trees, no work folders. */
function assertNoLeftovers(dataDir: string): void {
  const leftovers = readdirSync(join(dataDir, 'code')).filter((name) => name.includes('.tmp-'));
  assert.deepEqual(leftovers, []);
  assert.deepEqual(readdirSync(join(dataDir, 'images', 'work')), []);
}

async function invoke(lambda: LambdaClient, name: string, payload: unknown) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail' }));
  return { out, body: json(out.Payload) as Record<string, unknown>, log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString() : '' };
}

let work: string;
let runnable: TestImage;
let layoutDir: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kindling-images-'));
  runnable = await buildImage([BASH_LAYER, APP_LAYER], SETTINGS);
  layoutDir = join(work, 'layout');
  writeOciLayout(layoutDir, runnable, 'v1');
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('ImageUri, named as skopeo names images', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  it('parses every transport', () => {
    const cases: [string, object, string][] = [
      ['oci:/srv/layout:v1', { kind: 'oci', path: '/srv/layout', tag: 'v1' }, 'oci:/srv/layout'],
      [`oci:/srv/layout@${digest}`, { kind: 'oci', path: '/srv/layout', digest }, 'oci:/srv/layout'],
      ['oci-archive:/tmp/i.tar', { kind: 'oci-archive', path: '/tmp/i.tar' }, 'oci-archive:/tmp/i.tar'],
      ['docker-archive:/tmp/i.tar:repo/name:tag', { kind: 'docker-archive', path: '/tmp/i.tar', tag: 'repo/name:tag' }, 'docker-archive:/tmp/i.tar'],
      ['docker-archive:/tmp/i.tar:@2', { kind: 'docker-archive', path: '/tmp/i.tar', index: 2 }, 'docker-archive:/tmp/i.tar'],
      ['localhost:5000/team/app', { kind: 'registry', host: 'localhost:5000', repository: 'team/app', tag: 'latest' }, 'localhost:5000/team/app'],
      [`docker://registry.example.com/app:1.2@${digest}`, { kind: 'registry', host: 'registry.example.com', repository: 'app', tag: '1.2', digest }, 'registry.example.com/app'],
      ['123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:latest', { kind: 'registry', host: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'fn', tag: 'latest' }, '123456789012.dkr.ecr.us-east-1.amazonaws.com/fn'],
    ];
    for (const [uri, expected, name] of cases) {
      assert.deepEqual(parseImageUri(uri), expected, uri);
      assert.equal(imageName(parseImageUri(uri)), name);
    }
  });
  it('refuses what names no image', () => {
    for (const uri of ['', 'alpine', 'alpine:3', 'oci:layout', 'localhost:5000/UPPER', 'localhost:5000/app:bad tag', 'localhost:5000/app@sha256:short', 'host.example.com/app:-x']) {
      assert.throws(() => parseImageUri(uri), ImageUriError, uri);
    }
  });
});

describe('container images: control plane', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sandbox: 'process', maxImageBytes: 16 * 1024 * 1024, registryTimeoutMs: 1000 });
  });
  after(async () => {
    await server.close();
  });

  it('creates a function from an OCI layout: CodeSha256, ResolvedImageUri, no Runtime or Handler', async () => {
    const created = await server.lambda.send(imageFunction('from-layout', `oci:${layoutDir}:v1`, { ImageConfig: { Command: ['other.handler'] } }));
    const digest = runnable.manifest.digest.slice('sha256:'.length);
    assert.equal(created.PackageType, 'Image');
    assert.equal(created.CodeSha256, digest);
    assert.equal(created.CodeSize, 0);
    assert.equal(created.Runtime, undefined);
    assert.equal(created.Handler, undefined);
    assert.deepEqual(created.ImageConfigResponse, { ImageConfig: { Command: ['other.handler'] } });
    const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'from-layout' }));
    assert.deepEqual(got.Code, { RepositoryType: 'ECR', ImageUri: `oci:${layoutDir}:v1`, ResolvedImageUri: `oci:${layoutDir}@${runnable.manifest.digest}` });
    assert.equal(got.Configuration?.State, 'Active');
    // The root file system, unpacked in the code store under the manifest digest.
    const rootfs = join(server.dataDir, 'code', digest);
    assert.equal(readFileSync(join(rootfs, 'var/task/bootstrap'), 'utf8'), BOOTSTRAP);
    assert.equal(lstatSync(join(rootfs, 'var/task/bootstrap')).mode & 0o777, 0o755);
    for (const dir of ['proc', 'dev', 'tmp', 'etc']) assert.ok(lstatSync(join(rootfs, dir)).isDirectory(), `${dir} is a mount point`);
  });

  it('unpacks an image once, whatever names it', async () => {
    const before = readdirSync(join(server.dataDir, 'code')).length;
    const again = await server.lambda.send(imageFunction('same-image', `oci:${layoutDir}@${runnable.manifest.digest}`));
    assert.equal(again.CodeSha256, runnable.manifest.digest.slice('sha256:'.length));
    assert.equal(readdirSync(join(server.dataDir, 'code')).length, before);
  });

  it('takes oci-archive and docker-archive images', async () => {
    const ociArchive = join(work, 'image-oci.tar');
    writeOciArchive(ociArchive, layoutDir);
    const fromOci = await server.lambda.send(imageFunction('from-oci-archive', `oci-archive:${ociArchive}:v1`));
    assert.equal(fromOci.CodeSha256, runnable.manifest.digest.slice('sha256:'.length));

    const dockerArchive = join(work, 'image-docker.tar');
    await writeDockerArchive(dockerArchive, runnable, 'kindling/test:1');
    const fromDocker = await server.lambda.send(imageFunction('from-docker-archive', `docker-archive:${dockerArchive}:kindling/test:1`));
    assert.match(fromDocker.CodeSha256 ?? '', /^[0-9a-f]{64}$/);
    const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'from-docker-archive' }));
    assert.equal(got.Code?.ResolvedImageUri, `docker-archive:${dockerArchive}@sha256:${fromDocker.CodeSha256}`);
    const rootfs = join(server.dataDir, 'code', fromDocker.CodeSha256!);
    assert.equal(readFileSync(join(rootfs, 'var/task/bootstrap'), 'utf8'), BOOTSTRAP);
    // The same archive gives the same digest the next time.
    const again = await server.lambda.send(imageFunction('from-docker-archive-2', `docker-archive:${dockerArchive}`));
    assert.equal(again.CodeSha256, fromDocker.CodeSha256);
  });

  it('applies layers in order with whiteouts and opaque directories', async () => {
    const image = await buildImage([
      [
        { name: 'a/keep', content: 'kept' },
        { name: 'a/gone', content: 'deleted by the next layer' },
        { name: 'b/old', content: 'hidden by an opaque directory' },
        { name: 'b/sub/older', content: 'hidden too' },
        { name: 'c', content: 'a file that becomes a directory' },
        { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
        { name: 'usr/bin/tool', content: 'v1', mode: 0o4755 },
      ],
      [
        { name: 'a/.wh.gone' },
        { name: 'b/new', content: 'written before the opaque marker' },
        { name: 'b/.wh..wh..opq' },
        { name: 'b/sub/newer', content: 'after it' },
        { name: 'c/', type: 'directory' },
        { name: 'c/inside', content: 'now a directory' },
        { name: 'bin/tool', content: 'v2', mode: 0o755 },
        { name: 'hard', type: 'link', linkname: 'a/keep' },
      ],
    ]);
    const dir = join(work, 'whiteouts');
    writeOciLayout(dir, image);
    const created = await server.lambda.send(imageFunction('whiteouts', `oci:${dir}`));
    const rootfs = join(server.dataDir, 'code', created.CodeSha256!);
    assert.deepEqual(readdirSync(join(rootfs, 'a')), ['keep']);
    assert.deepEqual(readdirSync(join(rootfs, 'b')).sort(), ['new', 'sub']);
    assert.deepEqual(readdirSync(join(rootfs, 'b/sub')), ['newer']);
    assert.equal(readFileSync(join(rootfs, 'c/inside'), 'utf8'), 'now a directory');
    // Written through the image's own link, inside the image; setuid dropped.
    assert.equal(readlinkSync(join(rootfs, 'bin')), 'usr/bin');
    assert.equal(readFileSync(join(rootfs, 'usr/bin/tool'), 'utf8'), 'v2');
    assert.equal(lstatSync(join(rootfs, 'usr/bin/tool')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(rootfs, 'hard')).ino, lstatSync(join(rootfs, 'a/keep')).ino);
  });

  it('keeps every path inside the image root', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'kindling-outside-'));
    const image = await buildImage([
      [{ name: 'escape', type: 'symlink', linkname: outside }, { name: 'up', type: 'symlink', linkname: '../../../..' }],
      [{ name: 'escape/planted', content: 'must land inside the image' }, { name: 'up/tmp/planted-too', content: 'inside as well' }],
    ]);
    const dir = join(work, 'through-links');
    writeOciLayout(dir, image);
    const created = await server.lambda.send(imageFunction('through-links', `oci:${dir}`));
    const rootfs = join(server.dataDir, 'code', created.CodeSha256!);
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(readFileSync(join(rootfs, outside, 'planted'), 'utf8'), 'must land inside the image');
    assert.equal(readFileSync(join(rootfs, 'tmp/planted-too'), 'utf8'), 'inside as well');
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses unsafe layers and leaves nothing behind', async () => {
    const cases: [string, TarEntry[], RegExp][] = [
      ['dotdot', [{ name: 'a/../../evil', content: 'x' }], /entry 'a\/\.\.\/\.\.\/evil' has '\.\.' in its name/],
      ['absolute', [{ name: '/etc/evil', content: 'x' }], /absolute name/],
      ['hardlink-out', [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }], /'\.\.' in its name/],
      ['hardlink-via-link', [{ name: 'host-etc', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 'host-etc/passwd' }], /not a file in the image/],
      ['link-loop', [{ name: 'etc', type: 'symlink', linkname: '/etc' }, { name: 'etc/passwd', content: 'x' }], /too many levels of symbolic links/],
      ['under-a-file', [{ name: 'x', content: 'x' }, { name: 'x/y', content: 'under a file' }], /parent that is not a directory/],
    ];
    for (const [name, entries, message] of cases) {
      const dir = join(work, `unsafe-${name}`);
      writeOciLayout(dir, await buildImage([entries]));
      await rejects(server.lambda.send(imageFunction(`unsafe-${name}`, `oci:${dir}`)), 'InvalidParameterValueException', message);
    }
    assert.ok(!existsSync('/etc/evil'));
    assertNoLeftovers(server.dataDir);
  });

  it('refuses an image past the size limit, however well it compresses', async () => {
    const bomb = await buildImage([[{ name: 'zeros', content: Buffer.alloc(24 * 1024 * 1024) }]]);
    assert.ok(bomb.layers[0]!.size < 1024 * 1024);
    const dir = join(work, 'bomb');
    writeOciLayout(dir, bomb);
    await rejects(server.lambda.send(imageFunction('bomb', `oci:${dir}`)), 'InvalidParameterValueException', /more than the 16777216 bytes allowed/);
    assertNoLeftovers(server.dataDir);
  });

  it('refuses a corrupted layer (digest) and an image for another architecture', async () => {
    const image = await buildImage([[{ name: 'f', content: 'data' }]]);
    const dir = join(work, 'corrupt');
    writeOciLayout(dir, image);
    const layerPath = join(dir, 'blobs', 'sha256', image.layers[0]!.digest.slice('sha256:'.length));
    const bytes = readFileSync(layerPath);
    bytes[bytes.length - 9]! ^= 0xff; // in the gzip trailer: the blob's digest no longer matches
    writeFileSync(layerPath, bytes);
    await rejects(server.lambda.send(imageFunction('corrupt', `oci:${dir}`)), 'InvalidParameterValueException', /is not valid: .*(digest|not valid compressed)/);

    const other = HOST_PLATFORM === 'amd64' ? 'arm64' : 'amd64';
    const foreign = await buildImage([[{ name: 'f', content: 'data' }]], {}, { architecture: other });
    const foreignDir = join(work, 'foreign');
    writeOciLayout(foreignDir, foreign);
    await rejects(server.lambda.send(imageFunction('foreign', `oci:${foreignDir}`)), 'InvalidParameterValueException', new RegExp(`built for ${other}`));
    assertNoLeftovers(server.dataDir);
  });

  it('picks the function architecture from a multi-platform index', async () => {
    const other = HOST_PLATFORM === 'amd64' ? 'arm64' : 'amd64';
    const mine = await buildImage([[{ name: 'platform', content: HOST_PLATFORM }]]);
    const theirs = await buildImage([[{ name: 'platform', content: other }]], {}, { architecture: other });
    const index = indexOf({ [HOST_PLATFORM]: mine, [other]: theirs });
    const dir = join(work, 'multi');
    writeOciLayout(dir, mine, 'multi', [theirs], index);
    const created = await server.lambda.send(imageFunction('multi', `oci:${dir}:multi`));
    assert.equal(created.CodeSha256, mine.manifest.digest.slice('sha256:'.length));
    assert.equal(readFileSync(join(server.dataDir, 'code', created.CodeSha256!, 'platform'), 'utf8'), HOST_PLATFORM);
  });

  it('answers bad requests and missing images with InvalidParameterValueException', async () => {
    const cases: [Partial<CreateFunctionCommandInput>, string, RegExp][] = [
      [{ Code: { ImageUri: 'alpine:3' } }, 'InvalidParameterValueException', /must name a registry host/],
      [{ Code: { ImageUri: 'oci:relative/path' } }, 'InvalidParameterValueException', /absolute path/],
      [{ Code: { ImageUri: `oci:${join(work, 'missing')}` } }, 'InvalidParameterValueException', /does not exist/],
      [{ Code: { ImageUri: `oci:${layoutDir}:v2` } }, 'InvalidParameterValueException', /does not exist.*no image tagged 'v2'/],
      [{ Code: { ImageUri: `docker-archive:${join(work, 'missing.tar')}` } }, 'InvalidParameterValueException', /does not exist/],
      [{ Code: {} }, 'InvalidParameterValueException', /Please provide ImageUri/],
      [{ Runtime: 'nodejs20.x' }, 'InvalidParameterValueException', /don't provide Handler or Runtime or Layer/],
      [{ ImageConfig: { EntryPoint: Array(1501).fill('x') } }, 'ValidationException', /imageConfig.entryPoint/],
    ];
    for (const [extra, name, message] of cases) {
      await rejects(server.lambda.send(imageFunction('bad-request', `oci:${layoutDir}:v1`, extra)), name, message);
    }
    await rejects(
      server.lambda.send(new CreateFunctionCommand({ FunctionName: 'zip-with-image', Runtime: 'nodejs20.x', Handler: 'i.h', Role: ROLE, Code: { ImageUri: `oci:${layoutDir}` } })),
      'InvalidParameterValueException',
      /don't provide ImageUri/,
    );
    const zip = await zipFiles({ 'i.js': 'exports.h = async () => 1;' });
    await rejects(
      server.lambda.send(new CreateFunctionCommand({ FunctionName: 'zip-with-config', Runtime: 'nodejs20.x', Handler: 'i.h', Role: ROLE, Code: { ZipFile: zip }, ImageConfig: { Command: ['x'] } })),
      'InvalidParameterValueException',
      /don't provide ImageConfig/,
    );
  });

  it('updates the code with a new ImageUri and the ImageConfig with UpdateFunctionConfiguration', async () => {
    await server.lambda.send(imageFunction('updated', `oci:${layoutDir}:v1`));
    const next = await buildImage([BASH_LAYER, [...APP_LAYER, { name: 'var/task/VERSION', content: '2' }]], SETTINGS);
    const nextDir = join(work, 'layout-next');
    writeOciLayout(nextDir, next, 'v2');
    const updated = await server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated', ImageUri: `oci:${nextDir}:v2` }));
    assert.equal(updated.CodeSha256, next.manifest.digest.slice('sha256:'.length));
    const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'updated' }));
    assert.equal(got.Code?.ResolvedImageUri, `oci:${nextDir}@${next.manifest.digest}`);

    await rejects(server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated', ZipFile: await zipFiles({ 'a.js': '' }) })), 'InvalidParameterValueException', /provide ImageUri/);
    await rejects(server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated', ImageUri: `oci:${join(work, 'nope')}` })), 'InvalidParameterValueException', /does not exist/);

    const configured = await server.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', ImageConfig: { EntryPoint: ['/bin/bash', '/var/task/bootstrap'], WorkingDirectory: '/srv' } }),
    );
    assert.deepEqual(configured.ImageConfigResponse, { ImageConfig: { EntryPoint: ['/bin/bash', '/var/task/bootstrap'], WorkingDirectory: '/srv' } });
    await rejects(server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', Handler: 'x.y' })), 'InvalidParameterValueException', /don't provide Handler/);
  });

  it('does not run images in the process sandbox, and says why', async () => {
    await server.lambda.send(imageFunction('in-process', `oci:${layoutDir}:v1`));
    const { out, body } = await invoke(server.lambda, 'in-process', {});
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(body['errorType'], 'Runtime.InvalidEntrypoint');
    assert.match(String(body['errorMessage']), /--sandbox namespace/);
  });
});

describe('container images: registry', () => {
  const registryBinary = ['/usr/bin/docker-registry', '/usr/sbin/docker-registry'].find((path) => existsSync(path));
  const skip = registryBinary ? false : 'docker-registry is not installed (apt-get install docker-registry)';
  if (skip) console.log(`# registry cases skipped: ${skip}`);
  let server: TestServer;
  let registry: ChildProcess | undefined;
  let address = '';
  let silent: Server | undefined;

  before(async () => {
    if (skip) return;
    server = await startTestServer({ sandbox: 'process', registryTimeoutMs: 1500 });
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    const dir = join(work, 'registry');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${address}\n`);
    registry = spawn(registryBinary!, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      registry!.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`listening on ${address}`)) resolve();
      });
      registry!.once('exit', (code) => reject(new Error(`docker-registry exited (${code}): ${output}`)));
    });
  });
  after(async () => {
    if (skip) return;
    await server.close();
    registry?.kill();
    silent?.close();
  });

  it('pulls by tag and by digest over the distribution API', { skip }, async () => {
    await pushImage(address, 'kindling/runtime', 'v1', [runnable]);
    const byTag = await server.lambda.send(imageFunction('registry-tag', `${address}/kindling/runtime:v1`));
    assert.equal(byTag.CodeSha256, runnable.manifest.digest.slice('sha256:'.length));
    const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'registry-tag' }));
    assert.equal(got.Code?.ResolvedImageUri, `${address}/kindling/runtime@${runnable.manifest.digest}`);
    const byDigest = await server.lambda.send(imageFunction('registry-digest', `${address}/kindling/runtime@${runnable.manifest.digest}`));
    assert.equal(byDigest.CodeSha256, byTag.CodeSha256);
    assert.equal(readFileSync(join(server.dataDir, 'code', byTag.CodeSha256!, 'var/task/bootstrap'), 'utf8'), BOOTSTRAP);
  });

  it('picks the platform of a manifest list', { skip }, async () => {
    const other = HOST_PLATFORM === 'amd64' ? 'arm64' : 'amd64';
    const mine = await buildImage([[{ name: 'platform', content: HOST_PLATFORM }]]);
    const theirs = await buildImage([[{ name: 'platform', content: other }]], {}, { architecture: other });
    await pushImage(address, 'kindling/multi', 'latest', [mine, theirs], indexOf({ [HOST_PLATFORM]: mine, [other]: theirs }));
    const created = await server.lambda.send(imageFunction('registry-multi', `${address}/kindling/multi`));
    assert.equal(created.CodeSha256, mine.manifest.digest.slice('sha256:'.length));
  });

  it('answers missing, unreachable and silent registries with InvalidParameterValueException', { skip }, async () => {
    await rejects(server.lambda.send(imageFunction('registry-missing', `${address}/kindling/runtime:nope`)), 'InvalidParameterValueException', /does not exist.*not found/);
    await rejects(server.lambda.send(imageFunction('registry-missing-repo', `${address}/kindling/none:v1`)), 'InvalidParameterValueException', /does not exist/);
    const closed = await freePort();
    await rejects(server.lambda.send(imageFunction('registry-down', `127.0.0.1:${closed}/kindling/runtime:v1`)), 'InvalidParameterValueException', /could not reach the registry.*ECONNREFUSED/);
    // Accepts connections and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    await rejects(server.lambda.send(imageFunction('registry-silent', `127.0.0.1:${silentPort}/kindling/runtime:v1`)), 'InvalidParameterValueException', /did not answer within 1500 ms/);
    assertNoLeftovers(server.dataDir);
  });
});

/** Invokes need a sandbox that shows the image as `/`: the namespace driver. */
async function namespaceUnavailable(): Promise<string | false> {
  try {
    const selection = await selectSandboxes({ sandbox: 'namespace', dataDir: tmpdir() }, createLogger('error'));
    if (!selection.defaultDriver.runsImages) return 'the namespace sandbox does not show an image as its / yet (SandboxDriver.runsImages)';
    return false;
  } catch (err) {
    return `the namespace sandbox is not available here: ${(err as Error).message}`;
  }
}

const invokeSkip = await namespaceUnavailable();
if (invokeSkip) console.log(`# image invoke cases skipped: ${invokeSkip}`);

describe('container images: invoke in the namespace sandbox', { skip: invokeSkip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sandbox: 'namespace' });
    await server.lambda.send(imageFunction('runs', `oci:${layoutDir}:v1`, { Environment: { Variables: { FN_VAR: 'from the function', GREETING: 'overridden' } }, Timeout: 2 }));
    await server.lambda.send(
      imageFunction('overridden', `oci:${layoutDir}:v1`, {
        ImageConfig: { EntryPoint: ['/bin/bash', '/var/task/bootstrap', 'via-entry'], Command: ['custom.handler', 'more'], WorkingDirectory: '/srv' },
      }),
    );
  });
  after(async () => {
    await server.close();
  });

  it("serves invokes through the image's own runtime client", async () => {
    const { out, body } = await invoke(server.lambda, 'runs', { hello: 'image' });
    assert.equal(out.FunctionError, undefined, JSON.stringify(body));
    assert.deepEqual(body['event'], { hello: 'image' });
    assert.equal(body['handler'], 'echo.handler');
    assert.equal(body['args'], 'echo.handler');
    assert.equal(body['cwd'], '/var/task');
    // The function's variables win over the image's ENV; Lambda's own win over both.
    assert.equal(body['greeting'], 'overridden');
    assert.equal(body['fnVar'], 'from the function');
    assert.equal(body['region'], 'us-east-1');
  });

  it('applies ImageConfig: EntryPoint, Command and WorkingDirectory', async () => {
    const { body } = await invoke(server.lambda, 'overridden', {});
    assert.equal(body['handler'], 'custom.handler');
    assert.equal(body['args'], 'via-entry custom.handler more');
    assert.equal(body['cwd'], '/srv');
    assert.equal(body['greeting'], 'hello from the image');
  });

  it('reports function errors, exits and timeouts as Lambda does', async () => {
    const failed = await invoke(server.lambda, 'runs', { action: 'fail' });
    assert.equal(failed.out.FunctionError, 'Unhandled');
    assert.equal(failed.body['errorType'], 'ImageFailure');
    const exited = await invoke(server.lambda, 'runs', { action: 'exit' });
    assert.equal(exited.body['errorType'], 'Runtime.ExitError');
    assert.match(exited.log, /exiting as asked/);
    const spun = await invoke(server.lambda, 'runs', { action: 'spin' });
    assert.equal(spun.body['errorType'], 'Sandbox.Timedout');
    assert.match(String(spun.body['errorMessage']), /Task timed out after 2.00 seconds/);
    const again = await invoke(server.lambda, 'runs', { after: 'timeout' });
    assert.deepEqual(again.body['event'], { after: 'timeout' });
  });

  it('fails Init with Runtime.InvalidEntrypoint when the entry point is not in the image', async () => {
    await server.lambda.send(imageFunction('no-entry', `oci:${layoutDir}:v1`, { ImageConfig: { EntryPoint: ['/var/task/missing'] } }));
    const { out, body } = await invoke(server.lambda, 'no-entry', {});
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(body['errorType'], 'Runtime.InvalidEntrypoint');
    assert.match(String(body['errorMessage']), /fork\/exec \/var\/task\/missing: no such file or directory/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

