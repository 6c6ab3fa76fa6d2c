import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { oomKilledIn, PeakReader, readProcs, removeDirs, sweepDirs } from './cgroup-files.js';
import { CPU_PERIOD_US, cpuQuotaUs, type CgroupLimits, type CgroupMount, type CgroupTree, type SandboxCgroup } from './cgroups.js';

const NEEDED = ['memory', 'pids', 'cpu'];

/**
 * cgroup v2 (the unified hierarchy). NOT TESTED on the development machine, which has v1: it
 * follows the kernel's cgroup-v2 documentation and is kept small on purpose.
 *
 * Sandboxes live under `<mount>/kindling/`, not beside the server: v2's "no internal processes"
 * rule forbids enabling controllers for the children of a cgroup that holds processes itself (the
 * server's), while the root of the hierarchy is exempt. Needs root, like the rest of the driver.
 */
export class CgroupV2Tree implements CgroupTree {
  readonly version = 2;
  readonly #mountPoint: string;
  readonly #parent: string;
  #prepared = false;

  private constructor(mountPoint: string) {
    this.#mountPoint = mountPoint;
    this.#parent = `${mountPoint}/kindling`;
  }

  static find(mounts: readonly CgroupMount[]): CgroupV2Tree | undefined {
    const mount = mounts.find((m) => m.fstype === 'cgroup2');
    if (!mount) return undefined;
    try {
      const available = readFileSync(`${mount.mountPoint}/cgroup.controllers`, 'utf8').trim().split(/\s+/);
      return NEEDED.every((c) => available.includes(c)) ? new CgroupV2Tree(mount.mountPoint) : undefined;
    } catch {
      return undefined;
    }
  }

  sweep(prefix: string, olderThanMs: number): string[] {
    return sweepDirs([this.#parent], prefix, olderThanMs);
  }

  create(name: string, limits: CgroupLimits): SandboxCgroup {
    if (!this.#prepared) {
      const enable = NEEDED.map((c) => `+${c}`).join(' ');
      writeFileSync(`${this.#mountPoint}/cgroup.subtree_control`, enable);
      mkdirSync(this.#parent, { recursive: true });
      writeFileSync(`${this.#parent}/cgroup.subtree_control`, enable);
      this.#prepared = true;
    }
    const dir = `${this.#parent}/${name}`;
    mkdirSync(dir);
    try {
      writeFileSync(`${dir}/memory.max`, String(limits.memoryBytes));
      if (existsSync(`${dir}/memory.swap.max`)) writeFileSync(`${dir}/memory.swap.max`, '0');
      // At the limit the kernel kills the whole sandbox, not just its largest process.
      writeFileSync(`${dir}/memory.oom.group`, '1');
      writeFileSync(`${dir}/pids.max`, String(limits.pidsMax));
    } catch (err) {
      removeDirs([dir]);
      throw err;
    }
    return new CgroupV2(dir, limits);
  }
}

class CgroupV2 implements SandboxCgroup {
  readonly #dir: string;
  readonly #peak: PeakReader;
  readonly #limits: CgroupLimits;
  #capped = false;
  #removed = false;

  constructor(dir: string, limits: CgroupLimits) {
    this.#dir = dir;
    this.#limits = limits;
    // memory.peak needs Linux 5.19; older kernels only have the current usage.
    this.#peak = new PeakReader(existsSync(`${dir}/memory.peak`) ? `${dir}/memory.peak` : `${dir}/memory.current`);
  }

  join(pid: number): void {
    writeFileSync(`${this.#dir}/cgroup.procs`, String(pid));
  }

  capCpu(): void {
    if (this.#capped || this.#removed) return;
    this.#capped = true;
    // cpu.weight 100 is a default process's share, as cpu.shares 1024 is in v1.
    writeFileSync(`${this.#dir}/cpu.weight`, String(Math.min(10_000, Math.max(1, Math.round(100 * this.#limits.vcpus)))));
    writeFileSync(`${this.#dir}/cpu.max`, `${cpuQuotaUs(this.#limits)} ${CPU_PERIOD_US}`);
  }

  pids(): number[] {
    return readProcs(this.#dir);
  }

  peakMemoryBytes(): number {
    return this.#peak.read();
  }

  oomKilled(): boolean {
    return oomKilledIn(`${this.#dir}/memory.events`);
  }

  remove(): boolean {
    if (this.#removed) return true;
    this.#peak.close();
    this.#removed = removeDirs([this.#dir]);
    return this.#removed;
  }
}
