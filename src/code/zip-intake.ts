/**
 * Safe unpacking of an uploaded function or layer zip.
 *
 * Everything an archive could use to reach outside its folder (names, symbolic links, declared
 * sizes) is checked from the central directory and the link targets before anything is written.
 * Inflated bytes are then counted as they are produced, because declared sizes can lie.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, symlink } from 'node:fs/promises';
import { syncPath, syncTree } from './durable.js';
import { resolveLink } from './link-resolution.js';
import { dirname, join } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { InvalidParameterValueException } from '../shared/errors.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** PATH_MAX (4096) less the terminating NUL. */
const MAX_LINK_TARGET = 4095;
const OUTSIDE = "would be written outside the function's code directory";

type Kind = 'file' | 'dir' | 'link';

interface Member {
  readonly entry: Entry;
  /** The name as stored in the archive, for messages. */
  readonly name: string;
  /** Normalized relative path, segments joined by '/'. */
  readonly path: string;
  readonly kind: Kind;
  readonly mode: number;
}

interface Plan {
  /** Every directory to create, explicit or implied, parents first. */
  readonly dirs: string[];
  readonly files: Member[];
  readonly links: Member[];
}

/** `zip` is the archive in memory, or the path of a file holding it (read as needed, not loaded). */
export async function extractZip(
  zip: Buffer | string,
  destDir: string,
  options: { maxUnzippedBytes: number },
): Promise<{ files: number; bytes: number }> {
  const zipfile = await openZip(zip);
  try {
    const plan = planMembers(await readEntries(zipfile), options.maxUnzippedBytes);
    const budget = new ByteBudget(options.maxUnzippedBytes);
    const targets = await readLinkTargets(zipfile, plan.links, budget);
    checkLinks(plan.links, targets);
    return await unpackAtomically(destDir, async (root) => {
      await writeTree(zipfile, plan, targets, root, budget);
      return { files: plan.files.length + plan.links.length, bytes: budget.spent };
    });
  } finally {
    zipfile.close();
  }
}

async function openZip(zip: Buffer | string): Promise<ZipFile> {
  const options: yauzl.Options = {
    lazyEntries: true,
    autoClose: false,
    // Only checks that stored entries declare matching sizes here: file data is read raw and
    // inflated by copyMember, whose meter checks the size budget before the declared size.
    validateEntrySizes: true,
    // Names are decoded and checked by entryName so a refusal names the entry (yauzl would fail
    // the whole archive with a generic error) and backslashes are refused, not turned into '/'.
    decodeStrings: false,
  };
  try {
    return await (typeof zip === 'string' ? yauzl.openPromise(zip, options) : yauzl.fromBufferPromise(zip, options));
  } catch (err) {
    throw couldNotUnzip(err);
  }
}

async function readEntries(zipfile: ZipFile): Promise<Entry[]> {
  const entries: Entry[] = [];
  try {
    for await (const entry of zipfile.eachEntry()) entries.push(entry);
  } catch (err) {
    throw couldNotUnzip(err);
  }
  return entries;
}

function planMembers(entries: Entry[], limit: number): Plan {
  const byPath = new Map<string, Member>();
  let declared = 0;
  for (const entry of entries) {
    const member = classify(entry);
    if (member === undefined) continue;
    const previous = byPath.get(member.path);
    if (previous !== undefined) {
      // Duplicates are refused rather than "last wins": unzip tools disagree on which copy they
      // keep, so a duplicate could show a reviewer one file and run another. Repeated
      // directories are harmless.
      if (previous.kind === 'dir' && member.kind === 'dir') continue;
      throw refuse(member.name, 'appears more than once in the archive');
    }
    byPath.set(member.path, member);
    if (member.kind !== 'dir') declared += entry.uncompressedSize;
  }
  // An early exit only: declared sizes can lie, the meter counts what inflating really produces.
  if (declared > limit) throw tooLarge(limit);

  const dirs = new Set<string>();
  for (const member of byPath.values()) {
    const segments = member.path.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const ancestor = segments.slice(0, depth).join('/');
      const holder = byPath.get(ancestor);
      if (holder?.kind === 'link') {
        throw refuse(member.name, `would be written through the symbolic link '${show(ancestor)}'`);
      }
      if (holder?.kind === 'file') throw refuse(member.name, `is inside '${show(ancestor)}', which is a file`);
      dirs.add(ancestor);
    }
    if (member.kind === 'dir') dirs.add(member.path);
  }
  const members = [...byPath.values()];
  return {
    // A parent sorts before its children: it is a prefix of their paths.
    dirs: [...dirs].sort(),
    files: members.filter((member) => member.kind === 'file'),
    links: members.filter((member) => member.kind === 'link'),
  };
}

/** Undefined for an entry naming the root itself (`./`). */
function classify(entry: Entry): Member | undefined {
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  if (/[\\\0]/.test(name)) throw refuse(name, 'has a backslash or NUL character in its name');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw refuse(name, OUTSIDE);
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  // Every '..' is refused, even one that would stay inside: no zip tool writes them.
  if (segments.includes('..')) throw refuse(name, OUTSIDE);

  const unixMode = entry.externalFileAttributes >>> 16;
  const type = unixMode & S_IFMT;
  const kind = kindOf(name, type);
  if (kind === undefined) throw refuse(name, 'is not a regular file, directory or symbolic link');
  if (segments.length === 0) {
    if (kind === 'dir') return undefined;
    throw refuse(name, 'has an empty name');
  }
  if (kind !== 'dir') {
    if (entry.isEncrypted()) throw couldNotUnzip(new Error(`entry '${show(name)}' is encrypted`));
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw couldNotUnzip(new Error(`entry '${show(name)}' uses compression method ${entry.compressionMethod}`));
    }
  }
  if (kind === 'link' && entry.uncompressedSize > MAX_LINK_TARGET) {
    throw refuse(name, `is a symbolic link with a target longer than ${MAX_LINK_TARGET} bytes`);
  }
  // Functions run as another user than the one unpacking, so everything stays readable; only the
  // exec bit is kept (bootstrap scripts), never setuid/setgid/sticky or group/world write.
  const mode = kind === 'file' && (unixMode & 0o111) === 0 ? 0o644 : 0o755;
  return { entry, name, path: segments.join('/'), kind, mode };
}

function kindOf(name: string, type: number): Kind | undefined {
  if (name.endsWith('/') || type === S_IFDIR) return 'dir';
  if (type === S_IFLNK) return 'link';
  // Archives made on hosts without unix modes leave the type bits at 0.
  if (type === 0 || type === S_IFREG) return 'file';
  return undefined;
}

async function readLinkTargets(zipfile: ZipFile, links: Member[], budget: ByteBudget): Promise<Map<string, string>> {
  const targets = new Map<string, string>();
  for (const link of links) {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await copyMember(zipfile, link, budget, sink);
    targets.set(link.path, Buffer.concat(chunks).toString('utf8'));
  }
  return targets;
}

function checkLinks(links: Member[], targets: ReadonlyMap<string, string>): void {
  for (const link of links) {
    const target = targets.get(link.path) ?? '';
    if (target === '' || /[\\\0]/.test(target)) throw refuse(link.name, 'is a symbolic link with an invalid target');
    const verdict = target.startsWith('/') ? 'outside' : resolveLink(link.path, targets);
    if (verdict === 'loop') throw refuse(link.name, 'is a symbolic link with too many levels of links');
    if (verdict === 'outside') {
      throw refuse(link.name, `is a symbolic link to '${show(target)}', outside the function's code directory`);
    }
  }
}

/** Runs `write` into a fresh sibling of destDir, then moves it into place in one rename. */
async function unpackAtomically<T>(destDir: string, write: (root: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(destDir), { recursive: true });
  const root = `${destDir}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(root);
  try {
    await chmod(root, 0o755);
    const result = await write(root);
    // Durable before it is visible: a power cut must not leave a half-written tree in place.
    await syncTree(root);
    try {
      await rename(root, destDir);
      await syncPath(dirname(destDir));
    } catch (err) {
      // Someone unpacked the same content first; theirs is complete, so keep it.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      await rm(root, { recursive: true, force: true });
    }
    return result;
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

async function writeTree(
  zipfile: ZipFile,
  plan: Plan,
  targets: ReadonlyMap<string, string>,
  root: string,
  budget: ByteBudget,
): Promise<void> {
  for (const dir of plan.dirs) {
    const path = join(root, dir);
    await mkdir(path);
    await chmod(path, 0o755);
  }
  // Regular files go in while the tree holds no links at all, so none can be written through one;
  // 'wx' (O_EXCL) refuses anything already there.
  for (const file of plan.files) {
    const path = join(root, file.path);
    await copyMember(zipfile, file, budget, createWriteStream(path, { flags: 'wx', mode: file.mode }));
    await chmod(path, file.mode); // the umask may have cleared bits
  }
  for (const link of plan.links) await symlink(targets.get(link.path) ?? '', join(root, link.path));
}

/** Streams one member's data into `sink`, inflating it here so the meter sees every byte. */
async function copyMember(zipfile: ZipFile, member: Member, budget: ByteBudget, sink: Writable): Promise<void> {
  let raw: Readable;
  try {
    raw = await zipfile.openReadStreamPromise(member.entry, { decodeFileData: false });
  } catch (err) {
    sink.destroy();
    throw couldNotUnzip(err);
  }
  const counted = meter(member, budget);
  const inflate = member.entry.compressionMethod === 8 ? createInflateRaw() : undefined;
  const stages = inflate ? [raw, inflate, counted, sink] : [raw, counted, sink];
  // pipeline() hands a failure to every stage; the first to emit it is where it came from. Only
  // failures of the archive's data are the uploader's fault; a full disk is not.
  const origins = new Map<unknown, unknown>();
  for (const stage of stages) {
    stage.on('error', (err) => {
      if (!origins.has(err)) origins.set(err, stage);
    });
  }
  try {
    await pipeline(stages);
  } catch (err) {
    const origin = origins.get(err);
    throw origin === raw || origin === inflate ? couldNotUnzip(err) : err;
  }
}

/** Counts inflated bytes against the archive's budget and the member's declared size. */
function meter(member: Member, budget: ByteBudget): Transform {
  const declared = member.entry.uncompressedSize;
  let produced = 0;
  const mismatch = (): InvalidParameterValueException =>
    couldNotUnzip(new Error(`entry '${show(member.name)}' does not hold the ${declared} bytes it declares`));
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      produced += chunk.length;
      // The budget is checked first, so a bomb lying about its size is refused as too large.
      if (!budget.spend(chunk.length)) return done(tooLarge(budget.limit));
      if (produced > declared) return done(mismatch());
      done(null, chunk);
    },
    flush(done) {
      done(produced === declared ? null : mismatch());
    },
  });
}

class ByteBudget {
  #spent = 0;

  constructor(readonly limit: number) {}

  get spent(): number {
    return this.#spent;
  }

  /** False once the bytes spent so far pass the limit. */
  spend(bytes: number): boolean {
    this.#spent += bytes;
    return this.#spent <= this.limit;
  }
}

function couldNotUnzip(cause: unknown): InvalidParameterValueException {
  return new InvalidParameterValueException(
    'Could not unzip uploaded file. Please check your file, then try to upload again.',
    { cause },
  );
}

function tooLarge(limit: number): InvalidParameterValueException {
  return new InvalidParameterValueException(`Unzipped size must be smaller than ${limit} bytes`);
}

function refuse(name: string, why: string): InvalidParameterValueException {
  return new InvalidParameterValueException(`Could not unzip uploaded file: entry '${show(name)}' ${why}`);
}

/** Names come from the upload: control characters are escaped before they reach a message. */
function show(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
