import type { ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from '../../shared/index.js';
import type { Sandbox, SandboxExit, SandboxStats } from '../sandbox.js';
import { parseGuestMessage, STOP_MESSAGE, type GuestMessage } from './guest-protocol.js';
import { GUEST_RAM_FILE } from './qemu-command.js';
import { terminateThenKill } from '../shutdown.js';

/** How much of the serial console is kept, to explain a guest that died on its own. */
const CONSOLE_TAIL = 4096;

/** The host ends of a running microVM: the QEMU process and its three virtio-serial ports. */
export interface MicroVmProcess {
  readonly qemu: ChildProcess;
  readonly control: Socket;
  readonly stdout: Socket;
  readonly stderr: Socket;
}

/**
 * One running microVM. The runtime's stdout and stderr arrive on their own virtio-serial ports;
 * the guest's /init reports the runtime's exit status on the control port and powers off, so the
 * exit the worker sees is the runtime's, as with the other drivers.
 */
export class MicroVmSandbox implements Sandbox {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<SandboxExit>;
  readonly runtimeApiAddress: string;
  readonly #vm: MicroVmProcess;
  readonly #id: string;
  readonly #logger: Logger;
  #report: GuestMessage | undefined;
  #killed = false;
  #exit: SandboxExit | undefined;
  #console = '';
  #maxMemoryBytes = 0;
  /** Guest RAM in use as the runtime started: the guest kernel's share, not the function's. */
  #baselineBytes: number | undefined;
  /** The guest RAM's memfd, reopened through /proc once: stats() is read after every invocation. */
  #ramFd: number | undefined;

  constructor(vm: MicroVmProcess, options: { id: string; runtimeApiAddress: string; logger: Logger }) {
    this.#vm = vm;
    this.#id = options.id;
    this.#logger = options.logger;
    this.runtimeApiAddress = options.runtimeApiAddress;
    relay(vm.stdout, this.stdout);
    relay(vm.stderr, this.stderr);
    vm.control.on('error', () => {});
    lines(vm.control, (line) => {
      const message = parseGuestMessage(line);
      if (message?.kind === 'started') this.#baselineBytes = this.#guestRamBytes();
      else if (message) this.#report ??= message;
      if (message?.kind === 'exit') this.#maxMemoryBytes = Math.max(this.#maxMemoryBytes, message.peakBytes);
      // The function's log says why its runtime never started (a share that cannot be read, say).
      if (message?.kind === 'fail') this.stderr.write(`microvm: ${message.reason}\n`);
    });
    vm.qemu.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#console = (this.#console + chunk).slice(-CONSOLE_TAIL);
    });
    vm.qemu.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#console = (this.#console + chunk).slice(-CONSOLE_TAIL);
    });
    this.exited = new Promise((resolve) => {
      // `close`: QEMU has exited and every port's last bytes have been read.
      vm.qemu.once('close', (code, signal) => {
        // The memfd outlives QEMU while it is open here: a last reading covers the final moments
        // (a runtime killed at its memory limit is never read while it runs).
        this.stats();
        this.#exit = this.#exitFor(code, signal);
        if (this.#ramFd !== undefined) closeSync(this.#ramFd);
        this.#ramFd = undefined;
        resolve(this.#exit);
      });
    });
  }

  async stop(graceMs: number): Promise<SandboxExit> {
    if (this.#exit) return this.#exit;
    // The guest's /init turns this into SIGTERM for the runtime, then powers off when it exits.
    const terminate = () => {
      if (this.#vm.control.writable) this.#vm.control.write(STOP_MESSAGE);
    };
    return terminateThenKill(this.exited, terminate, () => this.kill(), graceMs);
  }

  kill(): void {
    if (this.#exit || this.#vm.qemu.pid === undefined) return;
    this.#killed = true;
    try {
      // QEMU's process group: the socat relays it started for the Runtime API go with it.
      process.kill(-this.#vm.qemu.pid, 'SIGKILL');
    } catch {
      this.#vm.qemu.kill('SIGKILL');
    }
  }

  /**
   * Peak memory. While the guest runs, seen from the host: the guest RAM QEMU has had to back
   * since the runtime started (the memfd's size less what it was then). Guest pages are backed on
   * first touch and never handed back, so this is a high-water mark; it counts the runtime's page
   * cache, and misses the ~10 MB the guest kernel freed at boot and the runtime reused. When the
   * runtime ends, the guest reports its cgroup's exact peak (memory.peak), which is kept if higher.
   */
  stats(): SandboxStats {
    const used = this.#guestRamBytes();
    if (used !== undefined && this.#baselineBytes !== undefined) {
      this.#maxMemoryBytes = Math.max(this.#maxMemoryBytes, used - this.#baselineBytes);
    }
    return { maxMemoryBytes: this.#maxMemoryBytes };
  }

  #guestRamBytes(): number | undefined {
    if (this.#exit) return undefined;
    try {
      this.#ramFd ??= this.#openGuestRam();
      return this.#ramFd === undefined ? undefined : fstatSync(this.#ramFd).blocks * 512;
    } catch {
      return undefined; // QEMU is gone
    }
  }

  #openGuestRam(): number | undefined {
    const dir = `/proc/${this.#vm.qemu.pid}/fd`;
    for (const fd of readdirSync(dir)) {
      try {
        if (readlinkSync(`${dir}/${fd}`).startsWith(GUEST_RAM_FILE)) return openSync(`${dir}/${fd}`, 'r');
      } catch {
        // closed meanwhile
      }
    }
    return undefined;
  }

  #exitFor(code: number | null, signal: NodeJS.Signals | null): SandboxExit {
    const report = this.#report;
    if (report?.kind === 'exit') {
      // The guest shell's status: 128+N when the runtime died of signal N.
      if (report.status <= 128) return { code: report.status, signal: null };
      const signalName = signalFor(report.status - 128);
      return {
        code: null,
        signal: signalName,
        ...(report.outOfMemory && signalName === 'SIGKILL' ? { outOfMemory: true } : {}),
      };
    }
    if (this.#killed) return { code: null, signal: 'SIGKILL' };
    const why = report?.kind === 'fail' ? report.reason : `QEMU ended (${signal ?? `code ${code}`}) without a report from the guest`;
    this.#logger.warn(`microvm ${this.#id}: ${why}`, { console: this.#console.trim().split('\n').slice(-20) });
    return { code: code === 0 ? null : code, signal };
  }
}

function signalFor(number: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, value]) => value === number);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** A port's bytes into the stream the worker reads; a reset at power-off just ends it. */
function relay(from: Socket, to: PassThrough): void {
  from.on('error', () => {});
  from.on('close', () => to.end());
  from.pipe(to, { end: false });
}

function lines(from: Readable, onLine: (line: string) => void): void {
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
}
