import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../shared/index.js';
import type { Sandbox, SandboxDriver, SandboxSpec } from '../sandbox.js';
import { UidPool } from '../uid-pool.js';
import { chooseAccelerator, type AcceleratorChoice } from './accelerator.js';
import { prepareGuestBoot, type GuestBoot } from './guest-boot.js';
import { launchScript } from './guest-init.js';
import { GUEST, launchMessage } from './guest-protocol.js';
import { guestViewFor } from './guest-view.js';
import { findHostTools, type HostToolPaths, type HostTools } from './host-tools.js';
import { GUEST_MODULES, moduleLoadOrder } from './initramfs.js';
import { MicroVmSandbox } from './microvm-sandbox.js';
import { qemuArgs } from './qemu-command.js';

export interface MicroVmOptions {
  /** Kindling's data directory: the kernel and initramfs are prepared once under `<dataDir>/microvm`. */
  readonly dataDir: string;
  readonly logger?: Logger;
  readonly tools?: HostToolPaths;
  /** Host uids for QEMU when the server is root, shared with the other drivers. */
  readonly uids?: UidPool;
}

/**
 * Guest RAM on top of MemorySize for the guest kernel, measured: Debian's generic kernel keeps
 * about 47 MB (its image, page structures) and uses some 50 MB more once booted (slab: the
 * virtio-serial buffers alone are 16 MB, inodes, 9p), and needs room to reclaim and OOM-kill in.
 * The function itself is held to MemorySize by a cgroup in the guest, so a breach is an OOM kill
 * at MemorySize, as in Lambda. Only pages the guest touches cost the host memory.
 */
const GUEST_KERNEL_MB = 128;
const GUEST_PAGE_STRUCTS = 0.02;
/** Lambda gives a function one vCPU per 1,769 MB of memory, up to six. */
const MB_PER_VCPU = 1769;
const MAX_VCPUS = 6;
/** The ports' host ends, as file descriptors QEMU inherits. */
const PORT_FDS = { control: 3, stdout: 4, stderr: 5 } as const;
/**
 * Init (boot to the runtime's first /next) measured on a 2-vCPU host: about 0.5 s under KVM,
 * 4 to 6 s under TCG with a Node.js runtime, more when several boot at once. Lambda's 10 s
 * leaves too little room for emulation.
 */
const TCG_INIT_TIMEOUT_MS = 30_000;

interface Prepared {
  readonly tools: HostTools;
  readonly boot: GuestBoot;
  readonly accelerator: AcceleratorChoice;
}

/**
 * The `microvm` driver: one QEMU microvm machine per execution environment, with the function's
 * code, layers, Kindling's runtime clients and the host's /usr (for the runtime's binaries)
 * shared read-only over virtio-9p, a private tmpfs /tmp, and a user-mode network whose only
 * exit is the Runtime API. The strongest isolation Kindling has: a guest kernel of its own.
 */
export class MicroVmSandboxDriver implements SandboxDriver {
  /** Its guest's only network is QEMU's user-mode one, restricted to the Runtime API forward: no egress yet (docs/network.md). */
  readonly network = 'none' as const;
  readonly name = 'microvm';
  readonly pathView = 'lambda' as const;
  readonly #cacheDir: string;
  readonly #logger: Logger;
  readonly #paths: HostToolPaths;
  readonly #uids: UidPool;
  #tools: HostTools | string | undefined;
  #prepared: Promise<Prepared> | undefined;
  #accelerator: AcceleratorChoice | undefined;

  constructor(options: MicroVmOptions) {
    this.#cacheDir = join(options.dataDir, 'microvm');
    this.#logger = options.logger ?? silentLogger;
    this.#paths = options.tools ?? {};
    this.#uids = options.uids ?? new UidPool();
  }

  /**
   * A longer Init limit than Lambda's 10 s while guests are emulated (TCG); undefined until the
   * first start has chosen the accelerator, and under KVM.
   */
  get initTimeoutMs(): number | undefined {
    return this.#accelerator?.accelerator === 'tcg' ? TCG_INIT_TIMEOUT_MS : undefined;
  }

  async unavailable(): Promise<string | undefined> {
    const tools = this.#hostTools();
    if (typeof tools === 'string') return tools;
    if (realpathSync('/lib') !== realpathSync('/usr/lib')) return "the host's /lib is not merged into /usr (the guest sees the runtime through /usr)";
    try {
      moduleLoadOrder(tools.kernel.modulesDir, GUEST_MODULES);
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    if (spec.rootfs !== undefined) throw new Error('the microvm sandbox does not run container images (PackageType Image)');
    const { tools, boot, accelerator } = await this.#prepare();
    const view = guestViewFor(spec);
    // Run as root, QEMU drops to a host uid of this environment's own once it has opened its
    // files; its guestfwd's socat runs as that uid too, so the socket's directory is handed to it.
    const runAs = process.getuid?.() === 0 ? this.#uids.take() : undefined;
    if (runAs !== undefined) spec.runtimeApi.grant(runAs);
    const args = qemuArgs({
      accelerator: accelerator.accelerator,
      kernel: boot.kernel,
      initrd: boot.initrd,
      kernelArgs: [
        ...boot.kernelArgs,
        // No speculative execution is emulated, so the guest's own mitigations only cost time.
        ...(accelerator.accelerator === 'tcg' ? ['mitigations=off'] : []),
        ...view.kernelArgs,
      ],
      memoryMb: spec.memoryMb + GUEST_KERNEL_MB + Math.ceil(spec.memoryMb * GUEST_PAGE_STRUCTS),
      cpus: Math.min(MAX_VCPUS, availableParallelism(), Math.max(1, Math.ceil(spec.memoryMb / MB_PER_VCPU))),
      shares: view.shares,
      portFds: PORT_FDS,
      runtimeApiSocket: spec.runtimeApi.socketPath,
      socat: tools.socat,
      ...(runAs !== undefined ? { runAs } : {}),
    });
    const qemu = spawn(tools.qemu, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Its own process group, as the process driver does: Ctrl-C at the server's terminal must
      // not kill environments mid-invoke, and kill() reaches the socat relays QEMU started.
      detached: true,
    });
    const spawned = new Promise<void>((resolve, reject) => {
      qemu.once('spawn', resolve);
      qemu.once('error', reject);
    });
    spawned.catch(() => {
      if (runAs !== undefined) this.#uids.release(runAs);
    });
    await spawned;
    const stdio = qemu.stdio as unknown as Socket[];
    const [control, stdout, stderr] = [PORT_FDS.control, PORT_FDS.stdout, PORT_FDS.stderr].map((fd) => stdio[fd]);
    const runtimeApiAddress = `${GUEST.runtimeApi.address}:${GUEST.runtimeApi.port}`;
    const env = { ...spec.env, AWS_LAMBDA_RUNTIME_API: runtimeApiAddress };
    control!.write(launchMessage(launchScript(view.command, spec.args, env, spec.workingDir)));
    const sandbox = new MicroVmSandbox(
      { qemu, control: control!, stdout: stdout!, stderr: stderr! },
      { id: spec.id, runtimeApiAddress, logger: this.#logger },
    );
    void sandbox.exited.then(() => {
      // The guestfwd relays are QEMU's children, in its process group: gone with it, then the uid is free.
      try {
        process.kill(-qemu.pid!, 'SIGKILL');
      } catch {
        // none left
      }
      if (runAs !== undefined) this.#uids.release(runAs);
    });
    return sandbox;
  }

  #hostTools(): HostTools | string {
    this.#tools ??= findHostTools(this.#paths);
    return this.#tools;
  }

  /** Boot files and the accelerator, once; a failure is retried by the next start. */
  #prepare(): Promise<Prepared> {
    this.#prepared ??= (async () => {
      const tools = this.#hostTools();
      if (typeof tools === 'string') throw new Error(`microvm sandbox: ${tools}`);
      const boot = await prepareGuestBoot(tools, this.#cacheDir);
      const accelerator = await chooseAccelerator(tools.qemu, boot, this.#cacheDir);
      this.#accelerator = accelerator;
      if (accelerator.accelerator === 'tcg') {
        this.#logger.warn(`microvm sandbox: ${accelerator.reason}; guests run under QEMU's software emulation (TCG), which boots in seconds and runs several times slower than KVM`);
      }
      return { tools, boot, accelerator };
    })();
    this.#prepared.catch(() => (this.#prepared = undefined));
    return this.#prepared;
  }
}
