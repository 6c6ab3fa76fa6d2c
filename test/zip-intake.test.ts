import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { extractZip } from '../src/code/zip-intake.js';
import { zipDirectory, zipFiles } from '../src/code/zip-build.js';
import { InvalidParameterValueException } from '../src/shared/errors.js';

const LAMBDA_LIMIT = { maxUnzippedBytes: 262144000 };
const COULD_NOT_UNZIP = 'Could not unzip uploaded file. Please check your file, then try to upload again.';
const LINK = 0o120777;

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-zip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts the refusal and that nothing, neither destDir nor a temp sibling, was left behind. */
async function assertRefused(
  t: TestContext,
  zip: Buffer,
  message: string | RegExp,
  options = LAMBDA_LIMIT,
): Promise<InvalidParameterValueException> {
  const parent = await scratch(t);
  let caught: unknown;
  await assert.rejects(extractZip(zip, join(parent, 'code'), options), (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof InvalidParameterValueException, `expected InvalidParameterValueException, got ${String(caught)}`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  assert.deepEqual(await readdir(parent), []);
  return caught;
}

/** Renames an entry in place (local and central header), for names yazl refuses to write. */
function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  const before = Buffer.from(from);
  const after = Buffer.from(to);
  assert.equal(before.length, after.length, 'placeholder and name must have the same length');
  const patched = Buffer.from(zip);
  let replaced = 0;
  for (let at = patched.indexOf(before); at !== -1; at = patched.indexOf(before, at + 1)) {
    after.copy(patched, at);
    replaced++;
  }
  assert.equal(replaced, 2, `'${from}' should appear once in each header`);
  return patched;
}

interface CentralEntry {
  name: string;
  central: number;
  local: number;
}

function centralEntries(zip: Buffer): CentralEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: CentralEntry[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    entries.push({ name, central: at, local: zip.readUInt32LE(at + 42) });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** Makes an entry's headers lie about its uncompressed size. */
function declareSize(zip: Buffer, name: string, size: number): Buffer {
  const patched = Buffer.from(zip);
  const entry = centralEntries(patched).find((candidate) => candidate.name === name);
  assert.ok(entry, `no entry '${name}'`);
  patched.writeUInt32LE(size, entry.central + 24);
  patched.writeUInt32LE(size, entry.local + 22);
  return patched;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

test('a zipFiles tree round-trips with content, exec bits and safe modes', async (t) => {
  const zip = await zipFiles({
    bootstrap: { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    'index.mjs': 'export const handler = async () => 1;\n',
    'lib/deep/data.bin': Buffer.from([0, 1, 2, 255]),
    'lib/private.txt': { content: 'secret', mode: 0o600 },
    'lib/suid': { content: 'x', mode: 0o4777 },
    'lib/shared.txt': { content: 'w', mode: 0o666 },
    'empty/': '',
  });
  const dest = join(await scratch(t), 'code');

  const result = await extractZip(zip, dest, LAMBDA_LIMIT);

  assert.deepEqual(result, { files: 6, bytes: 18 + 38 + 4 + 6 + 1 + 1 });
  assert.equal(await readFile(join(dest, 'bootstrap'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.deepEqual(await readFile(join(dest, 'lib/deep/data.bin')), Buffer.from([0, 1, 2, 255]));
  assert.equal(await modeOf(join(dest, 'bootstrap')), 0o755);
  assert.equal(await modeOf(join(dest, 'index.mjs')), 0o644);
  assert.equal(await modeOf(join(dest, 'lib/private.txt')), 0o644);
  assert.equal(await modeOf(join(dest, 'lib/suid')), 0o755);
  assert.equal(await modeOf(join(dest, 'lib/shared.txt')), 0o644);
  assert.equal(await modeOf(join(dest, 'lib/deep')), 0o755);
  assert.deepEqual(await readdir(join(dest, 'empty')), []);
  assert.deepEqual((await readdir(join(dest, '..'))).sort(), ['code']);
});

test('zipFiles is deterministic whatever the key order', async () => {
  const a = await zipFiles({ 'b.txt': 'two', 'a.txt': 'one', 'x/run': { content: 'go', mode: 0o755 } });
  const b = await zipFiles({ 'x/run': { content: 'go', mode: 0o755 }, 'a.txt': 'one', 'b.txt': 'two' });
  assert.ok(a.equals(b));
  const c = await zipFiles({ 'x/run': { content: 'go', mode: 0o644 }, 'a.txt': 'one', 'b.txt': 'two' });
  assert.ok(!a.equals(c), 'the mode is part of the archive');
});

test('zipDirectory round-trips a tree with links and is deterministic across mtimes', async (t) => {
  const src = await scratch(t);
  await mkdir(join(src, 'lib'));
  await mkdir(join(src, 'empty'));
  await writeFile(join(src, 'bootstrap'), '#!/bin/sh\n');
  await chmod(join(src, 'bootstrap'), 0o755);
  await writeFile(join(src, 'lib/util.js'), 'module.exports = 42;\n');
  await chmod(join(src, 'lib/util.js'), 0o644);
  await symlink('util.js', join(src, 'lib/current.js'));

  const first = await zipDirectory(src);
  await utimes(join(src, 'lib/util.js'), new Date(2001, 1, 2), new Date(2001, 1, 2));
  const second = await zipDirectory(src);
  assert.ok(first.equals(second), 'same tree, same bytes');

  const dest = join(await scratch(t), 'code');
  const result = await extractZip(second, dest, LAMBDA_LIMIT);
  assert.deepEqual(result, { files: 3, bytes: 10 + 21 + 'util.js'.length });
  assert.equal(await modeOf(join(dest, 'bootstrap')), 0o755);
  assert.equal(await modeOf(join(dest, 'lib/util.js')), 0o644);
  assert.equal(await readlink(join(dest, 'lib/current.js')), 'util.js');
  assert.equal(await readFile(join(dest, 'lib/current.js'), 'utf8'), 'module.exports = 42;\n');
  assert.deepEqual(await readdir(join(dest, 'empty')), []);
});

test('an existing destination is kept and the new copy discarded', async (t) => {
  const parent = await scratch(t);
  const dest = join(parent, 'code');
  await extractZip(await zipFiles({ 'a.txt': 'first' }), dest, LAMBDA_LIMIT);
  await extractZip(await zipFiles({ 'a.txt': 'second' }), dest, LAMBDA_LIMIT);
  assert.equal(await readFile(join(dest, 'a.txt'), 'utf8'), 'first');
  assert.deepEqual(await readdir(parent), ['code']);
});

test('not a zip, a truncated zip and corrupt data are refused with Lambda message', async (t) => {
  const notZip = await assertRefused(t, Buffer.from('definitely not a zip file'), COULD_NOT_UNZIP);
  assert.ok(notZip.cause instanceof Error);

  const valid = await zipFiles({ 'a.txt': 'hello '.repeat(1000) });
  await assertRefused(t, valid.subarray(0, valid.length - 10), COULD_NOT_UNZIP);

  // A first, intact file is written before the corrupt one fails: the temp dir must still go.
  const two = await zipFiles({ 'a.txt': 'fine', 'b.txt': 'hello '.repeat(1000) });
  const b = centralEntries(two).find((entry) => entry.name === 'b.txt');
  assert.ok(b);
  const compressedSize = two.readUInt32LE(b.central + 20);
  const dataStart = b.local + 30 + two.readUInt16LE(b.local + 26) + two.readUInt16LE(b.local + 28);
  const corrupt = Buffer.from(two);
  corrupt.fill(0xff, dataStart, dataStart + compressedSize);
  const err = await assertRefused(t, corrupt, COULD_NOT_UNZIP);
  assert.ok(err.cause instanceof Error);
});

test('entries escaping the root or with unsafe names are refused, naming the entry', async (t) => {
  const cases: Array<[placeholder: string, name: string, message: RegExp]> = [
    ['aa/evil', '../evil', /^Could not unzip uploaded file: entry '\.\.\/evil' would be written outside/],
    ['a/b/cc/dd/evil', 'a/b/../../evil', /entry 'a\/b\/\.\.\/\.\.\/evil' would be written outside/],
    ['xetc/passwd', '/etc/passwd', /entry '\/etc\/passwd' would be written outside/],
    ['CCevil', 'C:evil', /entry 'C:evil' would be written outside/],
    ['xxevil', '\\\\evil', /entry '\\\\evil' has a backslash/],
    ['xxxxxxevil', '..\\..\\evil', /entry '\.\.\\\.\.\\evil' has a backslash/],
    ['xaybin', 'x\0ybin', /entry 'x\\x00ybin' has a backslash or NUL/],
  ];
  for (const [placeholder, name, message] of cases) {
    const zip = renameEntry(await zipFiles({ 'ok.txt': 'fine', [placeholder]: 'payload' }), placeholder, name);
    await assertRefused(t, zip, message);
  }
});

test('symbolic links that resolve outside the root are refused', async (t) => {
  const link = (target: string) => ({ content: target, mode: LINK });
  await assertRefused(
    t,
    await zipFiles({ 'lib/link': link('../../outside') }),
    "Could not unzip uploaded file: entry 'lib/link' is a symbolic link to '../../outside', outside the function's code directory",
  );
  await assertRefused(t, await zipFiles({ link: link('/etc/passwd') }), /entry 'link' is a symbolic link to '\/etc\/passwd'/);
  // Lexically 'd/up/..' is 'd', but d/up is a link to the root, so the kernel climbs out.
  await assertRefused(t, await zipFiles({ 'd/up': link('..'), e: link('d/up/..') }), /entry 'e' is a symbolic link to 'd\/up\/\.\.'/);
  await assertRefused(t, await zipFiles({ a: link('b'), b: link('a') }), /too many levels of links/);
});

test('symbolic links staying inside the root are created after the files', async (t) => {
  const link = (target: string) => ({ content: target, mode: LINK });
  const zip = await zipFiles({
    alias: link('lib/real.txt'),
    'lib/real.txt': 'the content',
    'lib/self': link('../alias'),
    'lib/up': link('..'),
    'lib/dangling': link('missing'),
  });
  const dest = join(await scratch(t), 'code');
  await extractZip(zip, dest, LAMBDA_LIMIT);
  assert.equal(await readlink(join(dest, 'alias')), 'lib/real.txt');
  assert.equal(await readFile(join(dest, 'alias'), 'utf8'), 'the content');
  assert.equal(await readFile(join(dest, 'lib/self'), 'utf8'), 'the content');
  assert.equal(await readFile(join(dest, 'lib/up/lib/real.txt'), 'utf8'), 'the content');
  assert.equal(await readlink(join(dest, 'lib/dangling')), 'missing');
});

test('a file written through an in-archive link is refused, whichever comes first', async (t) => {
  const link = { content: 'real', mode: LINK };
  // Sorted order puts the link 'ln' before 'ln/payload'.
  await assertRefused(
    t,
    await zipFiles({ 'real/': '', ln: link, 'ln/payload': 'x' }),
    "Could not unzip uploaded file: entry 'ln/payload' would be written through the symbolic link 'ln'",
  );
  // File first: 'aa/payload' precedes the link 'zz', renamed to 'aa' afterwards.
  const fileFirst = renameEntry(await zipFiles({ 'aa/payload': 'x', 'real/': '', zz: link }), 'zz', 'aa');
  assert.deepEqual(
    centralEntries(fileFirst).map((entry) => entry.name),
    ['aa/payload', 'real/', 'aa'],
  );
  await assertRefused(t, fileFirst, /entry 'aa\/payload' would be written through the symbolic link 'aa'/);
});

test('duplicated names, files used as folders and special files are refused', async (t) => {
  const duplicate = renameEntry(await zipFiles({ 'a.txt': 'one', 'b.txt': 'two' }), 'b.txt', 'a.txt');
  await assertRefused(t, duplicate, "Could not unzip uploaded file: entry 'a.txt' appears more than once in the archive");
  await assertRefused(t, await zipFiles({ a: 'x', 'a/b': 'y' }), /entry 'a\/b' is inside 'a', which is a file/);
  await assertRefused(t, await zipFiles({ fifo: { content: '', mode: 0o010644 } }), /entry 'fifo' is not a regular file/);
});

test('honest sizes over the limit are refused before anything is written', async (t) => {
  const zip = await zipFiles({ 'a.txt': 'a'.repeat(600), 'b.txt': 'b'.repeat(600) });
  await assertRefused(t, zip, 'Unzipped size must be smaller than 1000 bytes', { maxUnzippedBytes: 1000 });
  // Declaring more than it holds: only the up-front check calls this too large (inflating would
  // call it corrupt).
  const overDeclared = declareSize(await zipFiles({ 'a.txt': 'small' }), 'a.txt', 5000);
  await assertRefused(t, overDeclared, 'Unzipped size must be smaller than 1000 bytes', { maxUnzippedBytes: 1000 });
  await assertRefused(t, overDeclared, COULD_NOT_UNZIP);

  const dest = join(await scratch(t), 'code');
  assert.deepEqual(await extractZip(zip, dest, { maxUnzippedBytes: 1200 }), { files: 2, bytes: 1200 });
});

test('a zip bomb lying about its size is stopped by counting inflated bytes', async (t) => {
  // 64 MiB of zeros deflate to about 64 KiB; the headers claim 10 bytes.
  const honest = await zipFiles({ 'a.txt': 'fine', bomb: Buffer.alloc(64 * 1024 * 1024) });
  const bomb = declareSize(honest, 'bomb', 10);
  assert.ok(bomb.length < 200 * 1024);

  // Declared total (14) is under the limit: only the running count can see 1000 bytes go by,
  // and it is checked before the member's own declared size.
  await assertRefused(t, bomb, 'Unzipped size must be smaller than 1000 bytes', { maxUnzippedBytes: 1000 });
  // Under Lambda's limit the lie itself is what stops it.
  await assertRefused(t, bomb, COULD_NOT_UNZIP);
});
