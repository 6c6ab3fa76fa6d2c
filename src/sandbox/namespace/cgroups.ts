import { readFileSync } from 'node:fs';
import { CgroupV1Tree } from './cgroup-v1.js';
import { CgroupV2Tree } from './cgroup-v2.js';

/** Lambda gives one vCPU at 1,769 MB of memory, and CPU in proportion to memory above and below. */
export const MB_PER_VCPU = 1769;
/** Lambda's quota of processes and threads per execution environment. */
export const PIDS_MAX = 1024;
/**
 * The CFS period of the hard CPU cap. A long period (the kernel allows up to 1 s) lets a small
 * function spend its share in bursts: at 128 MB, 72 ms of CPU at once each second rather than
 * 7 ms every 100 ms, so a short handler is not stretched over many periods. The average is the same.
 */
export const CPU_PERIOD_US = 1_000_000;

export interface CgroupLimits {
  readonly memoryBytes: number;
  /** CPUs' worth of time per period (fractional). */
  readonly vcpus: number;
  readonly pidsMax: number;
}

export function limitsFor(memoryMb: number): CgroupLimits {
  return { memoryBytes: memoryMb * 1024 * 1024, vcpus: memoryMb / MB_PER_VCPU, pidsMax: PIDS_MAX };
}

/** CPU time per CPU_PERIOD_US: the share of a CPU, at least 1 ms (the kernel's minimum quota). */
export function cpuQuotaUs(limits: CgroupLimits): number {
  return Math.max(1000, Math.round(CPU_PERIOD_US * limits.vcpus));
}

/** The cgroups of one sandbox, in every hierarchy its limits need. */
export interface SandboxCgroup {
  /** Moves a process in. Its children inherit the cgroup, so join before the process forks. */
  join(pid: number): void;
  /**
   * Applies the CPU share proportional to memory and the hard cap. Until then (Init) the sandbox
   * runs with a default process's weight and no cap. Idempotent.
   */
  capCpu(): void;
  /** The processes inside now (empty once the cgroup is gone). */
  pids(): number[];
  /** Peak memory charged to the cgroup so far. */
  peakMemoryBytes(): number;
  /** Whether the kernel's OOM killer has killed a process inside at the memory limit. */
  oomKilled(): boolean;
  /** Removes the cgroup; false while processes remain inside. Idempotent. */
  remove(): boolean;
}

export interface CgroupTree {
  readonly version: 1 | 2;
  create(name: string, limits: CgroupLimits): SandboxCgroup;
  /** Removes stale empty sandbox cgroups (see sweepDirs); returns their names. */
  sweep(prefix: string, olderThanMs: number): string[];
}

/** One cgroup file system mount, from /proc/self/mountinfo. */
export interface CgroupMount {
  readonly fstype: 'cgroup' | 'cgroup2';
  readonly mountPoint: string;
  readonly options: readonly string[];
}

/**
 * Finds how cgroups are mounted here. v1 when the memory, pids and cpu controllers are mounted as
 * v1 hierarchies (also on "hybrid" hosts, whose v2 mount then holds no controllers), else v2.
 * Throws with the reason when neither can be used.
 */
export function detectCgroups(): CgroupTree {
  const mounts = cgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const v1 = CgroupV1Tree.find(mounts);
  if (v1) return v1;
  const v2 = CgroupV2Tree.find(mounts);
  if (v2) return v2;
  throw new Error('no cgroup v1 hierarchies for memory, pids and cpu, and no cgroup v2 mount with those controllers');
}

export function cgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions] = right.split(' ');
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || fields[4] === undefined) continue;
    mounts.push({ fstype, mountPoint: unescapeMount(fields[4]), options: (superOptions ?? '').split(',') });
  }
  return mounts;
}

function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
