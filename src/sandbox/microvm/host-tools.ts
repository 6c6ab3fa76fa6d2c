import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** What the microVM driver uses on the host, all from Debian packages. */
export interface HostTools {
  /** qemu-system-x86 */
  readonly qemu: string;
  /** busybox-static: the guest's /init shell and its tools. */
  readonly busybox: string;
  /** socat: QEMU runs one per guest connection to the Runtime API (user-mode `guestfwd`). */
  readonly socat: string;
  /** linux-image-amd64: the guest kernel and the modules loaded from the initramfs. */
  readonly kernel: KernelFiles;
  /** xz-utils / zstd, to unpack the kernel for a direct (PVH) boot; without them the bzImage boots. */
  readonly xz?: string;
  readonly zstd?: string;
}

export interface KernelFiles {
  readonly version: string;
  readonly image: string;
  readonly modulesDir: string;
}

/** Explicit paths, for machines that keep these somewhere else. */
export interface HostToolPaths {
  readonly qemu?: string;
  readonly busybox?: string;
  readonly socat?: string;
  /** A `/boot/vmlinuz-<version>` whose modules are in `/lib/modules/<version>`. */
  readonly kernel?: string;
}

const BIN_DIRS = ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin'];

/** Finds the tools, or says which package is missing. */
export function findHostTools(paths: HostToolPaths = {}): HostTools | string {
  const qemu = paths.qemu ?? findBinary('qemu-system-x86_64');
  if (!qemu) return 'qemu-system-x86_64 not found (Debian package qemu-system-x86)';
  const busybox = paths.busybox ?? ['/bin/busybox', '/usr/bin/busybox'].find(executable);
  if (!busybox) return 'busybox not found (Debian package busybox-static)';
  if (!isStatic(busybox)) return `${busybox} is dynamically linked: the guest's /init needs busybox-static`;
  const socat = paths.socat ?? findBinary('socat');
  if (!socat) return 'socat not found (Debian package socat)';
  const kernel = paths.kernel ? kernelAt(paths.kernel) : newestKernel();
  if (!kernel) return 'no kernel with its modules in /boot and /lib/modules (Debian package linux-image-amd64)';
  const xz = findBinary('xz');
  const zstd = findBinary('zstd');
  return { qemu, busybox, socat, kernel, ...(xz ? { xz } : {}), ...(zstd ? { zstd } : {}) };
}

function findBinary(name: string): string | undefined {
  return BIN_DIRS.map((dir) => join(dir, name)).find(executable);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function kernelAt(image: string): KernelFiles | undefined {
  const version = /vmlinuz-(.+)$/.exec(image)?.[1];
  if (!version || !existsSync(image)) return undefined;
  const modulesDir = join('/lib/modules', version);
  return existsSync(join(modulesDir, 'modules.dep')) ? { version, image, modulesDir } : undefined;
}

/** The newest /boot/vmlinuz-* that has its modules installed. */
function newestKernel(): KernelFiles | undefined {
  let names: string[];
  try {
    names = readdirSync('/boot').filter((name) => name.startsWith('vmlinuz-'));
  } catch {
    return undefined;
  }
  names.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  for (const name of names) {
    const kernel = kernelAt(join('/boot', name));
    if (kernel) return kernel;
  }
  return undefined;
}

/** An ELF executable without a PT_INTERP program header needs no shared libraries. */
function isStatic(path: string): boolean {
  const header = Buffer.alloc(4096);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // not ELF64
  const phoff = Number(header.readBigUInt64LE(0x20));
  const phentsize = header.readUInt16LE(0x36);
  const phnum = header.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > header.length) return false;
    if (header.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}
