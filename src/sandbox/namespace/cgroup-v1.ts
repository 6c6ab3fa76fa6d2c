import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { CPU_PERIOD_US, cpuQuotaUs, type CgroupLimits, type CgroupMount, type CgroupTree, type SandboxCgroup } from './cgroups.js';
import { oomKilledIn, PeakReader, readProcs, removeDirs, sweepDirs } from './cgroup-files.js';

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
type Controller = (typeof CONTROLLERS)[number];

/**
 * cgroup v1: one hierarchy per controller (memory, pids, cpu). Each sandbox's cgroups are made at
 * the top of each hierarchy (as mounted here), not inside the server's own cgroup: a server that
 * dies without cleaning up must not leave directories in a cgroup that its own supervisor has to
 * remove (a cgroup with children cannot be removed).
 */
export class CgroupV1Tree implements CgroupTree {
  readonly version = 1;
  readonly #parents: Readonly<Record<Controller, string>>;

  private constructor(parents: Record<Controller, string>) {
    this.#parents = parents;
  }

  static find(mounts: readonly CgroupMount[]): CgroupV1Tree | undefined {
    const parents: Partial<Record<Controller, string>> = {};
    for (const controller of CONTROLLERS) {
      const mount = mounts.find((m) => m.fstype === 'cgroup' && m.options.includes(controller));
      if (!mount) return undefined;
      parents[controller] = mount.mountPoint;
    }
    return new CgroupV1Tree(parents as Record<Controller, string>);
  }

  sweep(prefix: string, olderThanMs: number): string[] {
    return sweepDirs([...new Set(Object.values(this.#parents))], prefix, olderThanMs);
  }

  create(name: string, limits: CgroupLimits): SandboxCgroup {
    const dirs = {} as Record<Controller, string>;
    for (const controller of CONTROLLERS) dirs[controller] = `${this.#parents[controller]}/${name}`;
    // Two controllers may share one hierarchy (a combined mount): make each directory once.
    const unique = [...new Set(Object.values(dirs))];
    const made: string[] = [];
    try {
      for (const dir of unique) {
        mkdirSync(dir);
        made.push(dir);
      }
      writeFileSync(`${dirs.memory}/memory.limit_in_bytes`, String(limits.memoryBytes));
      // Memory plus swap at the same limit, so swapping out does not dodge it (when swap is accounted).
      if (existsSync(`${dirs.memory}/memory.memsw.limit_in_bytes`)) {
        writeFileSync(`${dirs.memory}/memory.memsw.limit_in_bytes`, String(limits.memoryBytes));
      }
      writeFileSync(`${dirs.pids}/pids.max`, String(limits.pidsMax));
      writeFileSync(`${dirs.cpu}/cpu.cfs_period_us`, String(CPU_PERIOD_US));
    } catch (err) {
      removeDirs(made);
      throw err;
    }
    return new CgroupV1(dirs, unique, limits);
  }
}

class CgroupV1 implements SandboxCgroup {
  readonly #dirs: Readonly<Record<Controller, string>>;
  readonly #unique: readonly string[];
  readonly #peak: PeakReader;
  readonly #limits: CgroupLimits;
  #capped = false;
  #removed = false;

  constructor(dirs: Record<Controller, string>, unique: string[], limits: CgroupLimits) {
    this.#dirs = dirs;
    this.#unique = unique;
    this.#limits = limits;
    this.#peak = new PeakReader(`${dirs.memory}/memory.max_usage_in_bytes`);
  }

  join(pid: number): void {
    for (const dir of this.#unique) writeFileSync(`${dir}/cgroup.procs`, String(pid));
  }

  capCpu(): void {
    if (this.#capped || this.#removed) return;
    this.#capped = true;
    // 1024 shares is a default process's weight: one vCPU's worth at 1,769 MB.
    writeFileSync(`${this.#dirs.cpu}/cpu.shares`, String(Math.max(2, Math.round(1024 * this.#limits.vcpus))));
    writeFileSync(`${this.#dirs.cpu}/cpu.cfs_quota_us`, String(cpuQuotaUs(this.#limits)));
  }

  pids(): number[] {
    // Every process is in all three hierarchies; the pids one is the authority on processes.
    return readProcs(this.#dirs.pids);
  }

  peakMemoryBytes(): number {
    return this.#peak.read();
  }

  oomKilled(): boolean {
    return oomKilledIn(`${this.#dirs.memory}/memory.oom_control`);
  }

  remove(): boolean {
    if (this.#removed) return true;
    this.#peak.close();
    this.#removed = removeDirs(this.#unique);
    return this.#removed;
  }
}
