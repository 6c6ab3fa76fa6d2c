/** One member of an initramfs: the kernel unpacks a `newc` cpio archive into its root file system. */
export type CpioEntry =
  | { readonly path: string; readonly type: 'dir'; readonly mode: number }
  | { readonly path: string; readonly type: 'file'; readonly mode: number; readonly data: Buffer }
  | { readonly path: string; readonly type: 'symlink'; readonly target: string }
  | { readonly path: string; readonly type: 'char'; readonly mode: number; readonly major: number; readonly minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

/**
 * Writes a `newc` (SVR4, no CRC) cpio archive, the format the kernel's initramfs unpacker reads
 * (Documentation/driver-api/early-userspace/buffer-format.rst). Every member is owned by root
 * and dated 0, so the same inputs give the same bytes.
 */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    const [mode, data, rdev] = describe(entry);
    chunks.push(...member(entry.path.replace(/^\/+/, '') || '.', ino++, mode, data, rdev));
  }
  chunks.push(...member(TRAILER, 0, 0, Buffer.alloc(0), [0, 0]));
  return Buffer.concat(chunks);
}

function describe(entry: CpioEntry): [number, Buffer, [number, number]] {
  switch (entry.type) {
    case 'dir':
      return [S_IFDIR | entry.mode, Buffer.alloc(0), [0, 0]];
    case 'file':
      return [S_IFREG | entry.mode, entry.data, [0, 0]];
    case 'symlink':
      return [S_IFLNK | 0o777, Buffer.from(entry.target), [0, 0]];
    case 'char':
      return [S_IFCHR | entry.mode, Buffer.alloc(0), [entry.major, entry.minor]];
  }
}

function member(name: string, ino: number, mode: number, data: Buffer, [rdevMajor, rdevMinor]: [number, number]): Buffer[] {
  const nameBytes = Buffer.from(name + '\0');
  const fields = [ino, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0];
  const header = Buffer.from('070701' + fields.map((field) => field.toString(16).padStart(8, '0')).join(''), 'latin1');
  return [header, nameBytes, padding(header.length + nameBytes.length), data, padding(data.length)];
}

/** Header plus name, and the data, are each padded to a multiple of four bytes. */
function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
