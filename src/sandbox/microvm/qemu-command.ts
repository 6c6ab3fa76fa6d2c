import type { Accelerator } from './accelerator.js';
import { GUEST } from './guest-protocol.js';

/** One microVM as QEMU is asked to build it. */
export interface MachineSpec {
  readonly accelerator: Accelerator;
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelArgs: readonly string[];
  readonly memoryMb: number;
  readonly cpus: number;
  /** Host directories shown read-only to the guest, by 9p mount tag. */
  readonly shares: Readonly<Record<string, string>>;
  /** File descriptors (inherited by QEMU) of the host ends of the three virtio-serial ports. */
  readonly portFds: { readonly control: number; readonly stdout: number; readonly stderr: number };
  /** The environment's Runtime API socket on the host, which the guestfwd's socat connects to. */
  readonly runtimeApiSocket: string;
  readonly socat: string;
  /**
   * The unprivileged host uid (and gid) QEMU drops to once it has opened its files, when run as
   * root: one of the environment's own, so no other process on the host shares it.
   */
  readonly runAs?: number;
}

const GUEST_RAM = 'guest-ram';
/** How the guest RAM's memfd shows in /proc/<qemu>/fd (QEMU names it after the backend's type). */
export const GUEST_RAM_FILE = '/memfd:memory-backend-memfd';

/**
 * QEMU's `microvm` machine, the Firecracker model: no PCI, no firmware beyond qboot, no default
 * devices, direct kernel boot, and only virtio-mmio devices: a virtio-serial bus with three ports
 * (control, stdout, stderr), one 9p device per share, and one network card on QEMU's user-mode
 * stack. `restrict=on` keeps that stack off every real network and off the host: the guest's one
 * way out is the `guestfwd` to its Runtime API's unix socket.
 */
export function qemuArgs(spec: MachineSpec): string[] {
  const { address, port } = GUEST.runtimeApi;
  const args = [
    ...['-M', `microvm,x-option-roms=off,rtc=on,memory-backend=${GUEST_RAM}`],
    ...['-object', `memory-backend-memfd,id=${GUEST_RAM},size=${spec.memoryMb}M`],
    ...(spec.accelerator === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=64', '-cpu', 'max']),
    ...['-m', `${spec.memoryMb}M`, '-smp', String(spec.cpus)],
    ...['-nodefaults', '-no-user-config', '-nographic', '-no-reboot'],
    // QEMU's own system-call filter. `spawn` and set*id stay allowed: the filter is inherited by
    // the guestfwd's socat, which `elevateprivileges=deny` (or `children`) kills, and -runas
    // needs them; after -runas there is no privilege left to raise.
    ...['-sandbox', 'on,obsolete=deny,resourcecontrol=deny'],
    ...(spec.runAs !== undefined ? ['-runas', `${spec.runAs}:${spec.runAs}`] : []),
    // The kernel console (boot messages, panics, OOM reports) on the serial line, never in function logs.
    ...['-serial', 'stdio'],
    ...['-kernel', spec.kernel, '-initrd', spec.initrd, '-append', spec.kernelArgs.join(' ')],
    ...['-device', 'virtio-serial-device,max_ports=4'],
  ];
  let nr = 1;
  for (const [name, fd] of [
    [GUEST.ports.control, spec.portFds.control],
    [GUEST.ports.stdout, spec.portFds.stdout],
    [GUEST.ports.stderr, spec.portFds.stderr],
  ] as const) {
    args.push('-chardev', `socket,id=port${nr},fd=${fd}`, '-device', `virtserialport,chardev=port${nr},name=${name},nr=${nr}`);
    nr++;
  }
  for (const [tag, path] of Object.entries(spec.shares)) {
    args.push(
      '-fsdev', `local,id=fs-${tag},path=${optionValue(path)},security_model=none,readonly=on`,
      '-device', `virtio-9p-device,fsdev=fs-${tag},mount_tag=${tag}`,
    );
  }
  // QEMU splits the command on spaces and the option on commas: the socket's path has neither
  // (a mkdtemp name under the temporary directory) unless TMPDIR does.
  const forward = `guestfwd=tcp:${address}:${port}-cmd:${spec.socat} - UNIX-CONNECT:${optionValue(spec.runtimeApiSocket)}`;
  args.push(
    '-netdev', `user,id=net0,ipv6=off,restrict=on,${forward}`,
    '-device', 'virtio-net-device,netdev=net0',
  );
  return args;
}

/** QEMU's option syntax splits on commas; a comma inside a value is written twice. */
function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}
