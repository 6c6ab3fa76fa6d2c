import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { HostTools } from './host-tools.js';

/**
 * The guest kernel as QEMU boots it. Debian ships a compressed bzImage; unpacking it once into the
 * ELF `vmlinux` inside lets QEMU jump straight to its PVH entry, which skips the in-guest
 * decompressor: under software emulation that saves close to three seconds per cold start.
 * Undefined when the image cannot be unpacked here (the caller then boots the bzImage).
 */
export async function unpackedKernel(tools: HostTools, cacheDir: string): Promise<string | undefined> {
  const { image, version } = tools.kernel;
  const info = await stat(image);
  const key = createHash('sha256').update(`${image}\0${info.size}\0${info.mtimeMs}`).digest('hex').slice(0, 16);
  const target = join(cacheDir, `vmlinux-${version}-${key}`);
  if (existsSync(target)) return target;

  const payload = compressedPayload(await readFile(image));
  if (!payload) return undefined;
  const temp = `${target}.${process.pid}.tmp`;
  try {
    if (payload.format === 'gzip') await writeFile(temp, gunzipSync(payload.data));
    else {
      const tool = payload.format === 'xz' ? tools.xz : tools.zstd;
      if (!tool) return undefined;
      await decompressWith(tool, payload.data, temp);
    }
    if (!hasPvhEntry(await readFile(temp))) return undefined;
    await rename(temp, target);
    // An older kernel's unpacked image (66 MB for Debian's) is not needed any more.
    for (const name of await readdir(cacheDir)) {
      if (name.startsWith('vmlinux-') && !name.endsWith('.tmp') && join(cacheDir, name) !== target) await rm(join(cacheDir, name), { force: true });
    }
    return target;
  } catch {
    return undefined;
  } finally {
    await rm(temp, { force: true });
  }
}

interface Payload {
  readonly format: 'gzip' | 'xz' | 'zstd';
  readonly data: Buffer;
}

/** The compressed kernel inside a bzImage (x86 boot protocol 2.08+: payload_offset/length). */
function compressedPayload(bzImage: Buffer): Payload | undefined {
  if (bzImage.length < 0x250 || bzImage.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  if (bzImage.readUInt16LE(0x206) < 0x208) return undefined;
  const setupSectors = bzImage[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + bzImage.readUInt32LE(0x248);
  const data = bzImage.subarray(start, start + bzImage.readUInt32LE(0x24c));
  if (data[0] === 0x1f && data[1] === 0x8b) return { format: 'gzip', data };
  // xz and zstd payloads end with the 4-byte uncompressed size (the kernel's size_append).
  if (data.toString('latin1', 0, 6) === '\xfd7zXZ\0') return { format: 'xz', data: data.subarray(0, -4) };
  if (data.readUInt32LE(0) === 0xfd2fb528) return { format: 'zstd', data: data.subarray(0, -4) };
  return undefined;
}

async function decompressWith(tool: string, data: Buffer, target: string): Promise<void> {
  const out = await open(target, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(tool, ['-dc'], { stdio: ['pipe', out.fd, 'ignore'] });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} exited with ${code}`))));
      child.stdin!.on('error', () => {});
      child.stdin!.end(data);
    });
  } finally {
    await out.close();
  }
}

/** An ELF64 kernel with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), which QEMU's microvm boots. */
function hasPvhEntry(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    let at = Number(elf.readBigUInt64LE(ph + 8));
    const end = at + Number(elf.readBigUInt64LE(ph + 32));
    while (at + 12 <= end) {
      const nameSize = elf.readUInt32LE(at);
      const descSize = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + nameSize);
      if (name === 'Xen\0' && type === 18) return true;
      at += 12 + align4(nameSize) + align4(descSize);
    }
  }
  return false;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
