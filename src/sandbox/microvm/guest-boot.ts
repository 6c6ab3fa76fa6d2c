import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { HostTools } from './host-tools.js';
import { buildInitramfs } from './initramfs.js';
import { unpackedKernel } from './kernel-image.js';

/** What QEMU boots: the kernel, the initramfs and the command line every guest shares. */
export interface GuestBoot {
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelArgs: readonly string[];
}

/**
 * Prepares the boot files once (cached under `cacheDir`). The unpacked kernel boots through its
 * PVH entry, which skips the decompressor but also the boot code that measures the TSC, and under
 * emulation the kernel's own measurement fails: so it is used only when the host's TSC frequency
 * is known (`tsc_known_freq`), given to the guest with `tsc_early_khz`. Under TCG the guest reads
 * the host's TSC, so that is the right frequency; otherwise the bzImage boots as shipped.
 */
export async function prepareGuestBoot(tools: HostTools, cacheDir: string): Promise<GuestBoot> {
  await mkdir(cacheDir, { recursive: true });
  const initrd = await buildInitramfs(tools, cacheDir);
  const tscKhz = hostTscKhz();
  const unpacked = tscKhz === undefined ? undefined : await unpackedKernel(tools, cacheDir);
  const kernelArgs = [
    'console=ttyS0',
    'quiet',
    // A kernel panic (init gone) reboots at once, and -no-reboot turns that into QEMU's exit.
    'panic=-1',
    'pci=off',
    '8250.nr_uarts=1',
    'cryptomgr.notests',
    'init_on_alloc=0',
    'random.trust_cpu=on',
    ...(tscKhz === undefined ? [] : [`tsc_early_khz=${tscKhz}`, 'tsc=reliable']),
  ];
  return { kernel: unpacked ?? tools.kernel.image, initrd, kernelArgs };
}

/** The host's TSC frequency when the host kernel knows it exactly (a hypervisor told it). */
function hostTscKhz(): number | undefined {
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  if (!flags.includes('constant_tsc') || !flags.includes('tsc_known_freq')) return undefined;
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)$/m.exec(cpuinfo)?.[1]);
  return Number.isFinite(mhz) && mhz > 0 ? Math.round(mhz * 1000) : undefined;
}
