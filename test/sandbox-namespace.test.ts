import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupMounts, cpuQuotaUs, limitsFor } from '../src/sandbox/namespace/cgroups.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { sandboxContract } from './support/sandbox-contract.js';

const unavailable = await new NamespaceSandboxDriver().unavailable();
if (unavailable) console.log(`# namespace sandbox skipped: ${unavailable}`);

sandboxContract('namespace', { skip: unavailable ?? false, lambdaPaths: true });

describe('namespace sandbox limits', () => {
  it('gives CPU in proportion to memory, one vCPU at 1,769 MB', () => {
    assert.equal(cpuQuotaUs(limitsFor(1769)), 1_000_000);
    assert.equal(cpuQuotaUs(limitsFor(128)), 72_357);
    assert.equal(cpuQuotaUs(limitsFor(10_240)), 5_788_581);
    assert.equal(limitsFor(128).memoryBytes, 128 * 1024 * 1024);
    assert.equal(limitsFor(128).pidsMax, 1024);
  });

  it('finds cgroup mounts in mountinfo, v1 and v2, with escaped paths', () => {
    const mounts = cgroupMounts(
      [
        '30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
        '31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
        '32 25 0:28 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
        '33 25 0:29 / /mnt/with\\040space rw - cgroup cgroup rw,pids',
        '34 25 0:30 / /proc rw - proc proc rw',
      ].join('\n'),
    );
    assert.deepEqual(mounts, [
      { fstype: 'cgroup2', mountPoint: '/sys/fs/cgroup/unified', options: ['rw', 'nsdelegate'] },
      { fstype: 'cgroup', mountPoint: '/sys/fs/cgroup/cpu,cpuacct', options: ['rw', 'cpu', 'cpuacct'] },
      { fstype: 'cgroup', mountPoint: '/sys/fs/cgroup/memory', options: ['rw', 'memory'] },
      { fstype: 'cgroup', mountPoint: '/mnt/with space', options: ['rw', 'pids'] },
    ]);
  });
});
