import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GuestBoot } from './guest-boot.js';
import { GUEST } from './guest-protocol.js';

export type Accelerator = 'kvm' | 'tcg';

export interface AcceleratorChoice {
  readonly accelerator: Accelerator;
  /** Why KVM is not used, when it is not. */
  readonly reason?: string;
}

/** A KVM guest reaches /init in well under a second; one that has not in this long never will. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * KVM when /dev/kvm really runs a guest, else TCG (QEMU's software emulation). Opening /dev/kvm
 * is not enough: under some nested setups it opens and guests then hang. So a tiny guest is booted
 * once under KVM; the answer is kept in `cacheDir` for the rest of this host boot (keyed by the
 * kernel's boot id), so servers started later do not pay the probe again.
 */
export async function chooseAccelerator(qemu: string, boot: GuestBoot, cacheDir: string): Promise<AcceleratorChoice> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accelerator: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  const file = join(cacheDir, 'accelerator.json');
  const key = [bootId(), qemu, boot.kernel, boot.initrd].join('\0');
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as { key: string; choice: AcceleratorChoice };
    if (cached.key === key) return cached.choice;
  } catch {
    // no answer kept yet
  }
  const choice: AcceleratorChoice = (await kvmBoots(qemu, boot))
    ? { accelerator: 'kvm' }
    : { accelerator: 'tcg', reason: `/dev/kvm opens, but a KVM guest did not boot within ${PROBE_TIMEOUT_MS / 1000} s` };
  await writeFile(file, JSON.stringify({ key, choice }));
  return choice;
}

function kvmBoots(qemu: string, boot: GuestBoot): Promise<boolean> {
  const args = [
    ...['-M', 'microvm,x-option-roms=off', '-accel', 'kvm', '-cpu', 'host', '-m', '128', '-smp', '1'],
    ...['-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-serial', 'stdio'],
    ...['-kernel', boot.kernel, '-initrd', boot.initrd, '-append', [...boot.kernelArgs, 'kindling.probe=1'].join(' ')],
  ];
  return new Promise((resolve) => {
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    let booted = false;
    let giveUp: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      // A process stuck in the kernel's KVM code may take its time to die: do not wait on it.
      giveUp = setTimeout(() => resolve(false), 2000);
    }, PROBE_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-256);
      if (!booted && output.includes(GUEST.probeOk)) {
        booted = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', () => resolve(false));
    child.once('close', () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      resolve(booted);
    });
  });
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
