/**
 * Builds zips deterministically: the same tree always gives the same bytes, hence the same
 * CodeSha256. Members are sorted by path and carry a fixed timestamp.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * DOS timestamps are local time: a date built from local fields encodes alike in every timezone,
 * and forceDosTimestamp leaves out the UTC extra field, which would not.
 */
const FIXED_TIME = { mtime: new Date(1980, 0, 1), forceDosTimestamp: true } as const;

interface Member {
  readonly path: string;
  add(zipfile: yazl.ZipFile): void;
}

export type ZipFileContent = string | Buffer | { content: string | Buffer; mode: number };

/** Zips the contents of `dir`; symbolic links are stored as links, not followed. */
export async function zipDirectory(dir: string): Promise<Buffer> {
  const members: Member[] = [];
  await collect(dir, '', members);
  return build(members);
}

/**
 * Zips an in-memory tree. A key ending in '/' is an (empty) directory; a mode without type bits
 * is a regular file's, and `S_IFLNK | 0o777` makes a symbolic link whose content is its target.
 */
export async function zipFiles(files: Record<string, ZipFileContent>): Promise<Buffer> {
  const members = Object.entries(files).map(([path, value]): Member => {
    if (path.endsWith('/')) return directory(path);
    const { content, mode } =
      typeof value === 'string' || Buffer.isBuffer(value) ? { content: value, mode: 0o644 } : value;
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    return buffer(path, data, (mode & S_IFMT) === 0 ? S_IFREG | mode : mode);
  });
  return build(members);
}

async function collect(root: string, relative: string, into: Member[]): Promise<void> {
  for (const name of await readdir(join(root, relative))) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const real = join(root, path);
    const stats = await lstat(real);
    if (stats.isDirectory()) {
      into.push(directory(`${path}/`));
      await collect(root, path, into);
    } else if (stats.isSymbolicLink()) {
      into.push(buffer(path, Buffer.from(await readlink(real)), S_IFLNK | 0o777));
    } else if (stats.isFile()) {
      const mode = S_IFREG | (stats.mode & 0o777);
      into.push({ path, add: (zipfile) => zipfile.addFile(real, path, { ...FIXED_TIME, mode }) });
    } else {
      throw new Error(`Cannot zip '${real}': not a regular file, directory or symbolic link`);
    }
  }
}

function directory(path: string): Member {
  return { path, add: (zipfile) => zipfile.addEmptyDirectory(path, { ...FIXED_TIME, mode: S_IFDIR | 0o755 }) };
}

function buffer(path: string, content: Buffer, mode: number): Member {
  // Link targets are a few bytes: stored as is, like Info-ZIP does.
  const compress = (mode & S_IFMT) !== S_IFLNK;
  return { path, add: (zipfile) => zipfile.addBuffer(content, path, { ...FIXED_TIME, mode, compress }) };
}

async function build(members: Member[]): Promise<Buffer> {
  const zipfile = new yazl.ZipFile();
  const failed = new Promise<never>((_, reject) => zipfile.once('error', reject));
  // Code-unit order, not localeCompare: the order must not depend on the machine's locale.
  const sorted = [...members].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const member of sorted) member.add(zipfile);
  zipfile.end();
  const read = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of zipfile.outputStream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  return Promise.race([read, failed]);
}
