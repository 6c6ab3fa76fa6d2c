import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { cpioArchive, type CpioEntry } from './cpio.js';
import { GUEST_ETC, GUEST_INIT } from './guest-init.js';
import type { HostTools } from './host-tools.js';

/** The drivers the guest loads: virtio-mmio transport, serial ports, 9p shares, network. */
export const GUEST_MODULES = ['virtio_mmio', 'virtio_console', '9pnet_virtio', '9p', 'virtio_net'];
/** Bumped when the layout below changes, so cached images are rebuilt. */
const LAYOUT_VERSION = 2;

/**
 * The guest's initramfs, built by Kindling from the host's Debian packages: busybox-static as
 * /init's shell and every tool (one symlink per applet), the kernel modules above with their
 * dependencies from /lib/modules/<version>, a tiny /etc, and mount points for the shares. Cached
 * in `cacheDir` under a hash of its inputs; a changed input (busybox upgrade, new kernel, new
 * init script) gives a new file. Uncompressed: the kernel unpacks it faster than it inflates it.
 */
export async function buildInitramfs(tools: HostTools, cacheDir: string): Promise<string> {
  const modules = moduleLoadOrder(tools.kernel.modulesDir, GUEST_MODULES);
  const hash = createHash('sha256').update(`${LAYOUT_VERSION}\0${GUEST_INIT}\0${JSON.stringify(GUEST_ETC)}`);
  for (const file of [tools.busybox, ...modules]) {
    const info = statSync(file);
    hash.update(`\0${file}\0${info.size}\0${info.mtimeMs}`);
  }
  const key = hash.digest('hex').slice(0, 16);
  const target = join(cacheDir, `initramfs-${key}.cpio`);
  if (existsSync(target)) return target;

  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, cpioArchive(initramfsEntries(tools, modules)));
  await rename(temp, target);
  await removeStale(cacheDir, basename(target));
  return target;
}

function initramfsEntries(tools: HostTools, modules: readonly string[]): CpioEntry[] {
  const dir = (path: string, mode = 0o755): CpioEntry => ({ path, type: 'dir', mode });
  const entries: CpioEntry[] = [
    // The root itself: the kernel's rootfs starts world-writable (a tmpfs root is 1777).
    dir('.'),
    ...['bin', 'dev', 'proc', 'sys', 'run', 'etc', 'usr', 'var', 'var/task', 'var/runtime', 'opt'].map((path) => dir(path)),
    dir('tmp', 0o1777),
    dir('root', 0o700),
    dir('kindling', 0o700),
    dir('kindling/modules', 0o700),
    { path: 'dev/console', type: 'char', mode: 0o600, major: 5, minor: 1 },
    // Debian merged /lib into /usr: the runtime's loader and libraries come with the /usr share.
    { path: 'lib', type: 'symlink', target: 'usr/lib' },
    { path: 'lib64', type: 'symlink', target: 'usr/lib64' },
    { path: 'sbin', type: 'symlink', target: 'bin' },
    { path: 'init', type: 'file', mode: 0o755, data: Buffer.from(GUEST_INIT) },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(tools.busybox) },
  ];
  for (const applet of execFileSync(tools.busybox, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (/^[\w.[\]-]+$/.test(applet) && applet !== 'busybox') entries.push({ path: `bin/${applet}`, type: 'symlink', target: 'busybox' });
  }
  for (const [name, content] of Object.entries(GUEST_ETC)) {
    entries.push({ path: `etc/${name}`, type: 'file', mode: 0o644, data: Buffer.from(content) });
  }
  const order: string[] = [];
  for (const file of modules) {
    const name = basename(file).replace(/\.ko(\.\w+)?$/, '.ko');
    entries.push({ path: `kindling/modules/${name}`, type: 'file', mode: 0o600, data: moduleBytes(file, tools) });
    order.push(name);
  }
  entries.push({ path: 'kindling/modules.order', type: 'file', mode: 0o600, data: Buffer.from(order.join('\n') + '\n') });
  return entries;
}

/**
 * The module files to insert, dependencies first, read from modules.dep. A module the kernel
 * has built in needs no file.
 */
export function moduleLoadOrder(modulesDir: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, { file: string; needs: string[] }>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [file, needs] = line.split(':');
    if (!file || needs === undefined) continue;
    deps.set(moduleName(file), { file, needs: needs.trim().split(/\s+/).filter(Boolean) });
  }
  const builtin = new Set(
    existsSync(join(modulesDir, 'modules.builtin'))
      ? readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(moduleName)
      : [],
  );
  const order: string[] = [];
  const visit = (name: string): void => {
    const entry = deps.get(name);
    if (!entry) {
      if (builtin.has(name)) return;
      throw new Error(`kernel module ${name} not found in ${modulesDir}`);
    }
    const path = join(modulesDir, entry.file);
    if (order.includes(path)) return;
    for (const need of entry.needs) visit(moduleName(need));
    order.push(path);
  };
  for (const name of wanted) visit(name.replaceAll('-', '_'));
  return order;
}

function moduleName(file: string): string {
  return basename(file).replace(/\.ko(\.\w+)?$/, '').replaceAll('-', '_');
}

/** busybox's insmod takes plain ELF: compressed modules are unpacked here. */
function moduleBytes(file: string, tools: HostTools): Buffer {
  const data = readFileSync(file);
  if (file.endsWith('.ko')) return data;
  if (file.endsWith('.ko.gz')) return gunzipSync(data);
  const tool = file.endsWith('.ko.xz') ? tools.xz : file.endsWith('.ko.zst') ? tools.zstd : undefined;
  if (!tool) throw new Error(`cannot unpack kernel module ${file} (install xz-utils or zstd)`);
  return execFileSync(tool, ['-dc'], { input: data, maxBuffer: 64 * 1024 * 1024 });
}

async function removeStale(cacheDir: string, keep: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    if (name.startsWith('initramfs-') && name.endsWith('.cpio') && name !== keep) await rm(join(cacheDir, name), { force: true });
  }
}
