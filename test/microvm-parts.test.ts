/** The microVM driver's pure parts: no QEMU needed. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cpioArchive } from '../src/sandbox/microvm/cpio.js';
import { launchScript } from '../src/sandbox/microvm/guest-init.js';
import { shellQuote } from '../src/sandbox/shell-quote.js';
import { launchMessage, parseGuestMessage } from '../src/sandbox/microvm/guest-protocol.js';
import { guestViewFor } from '../src/sandbox/microvm/guest-view.js';
import { moduleLoadOrder } from '../src/sandbox/microvm/initramfs.js';
import { qemuArgs, type MachineSpec } from '../src/sandbox/microvm/qemu-command.js';
import type { SandboxSpec } from '../src/sandbox/index.js';

const SPEC: SandboxSpec = {
  id: 'e1',
  functionName: 'f',
  command: '/usr/bin/node',
  args: [],
  codeDir: '/data/code/abc',
  runtimeDir: '/app/dist/src/runtimes',
  env: {},
  memoryMb: 256,
  ephemeralStorageMb: 512,
  runtimeApi: { socketPath: '/tmp/kindling-rtapi-x/runtime-api.sock', grant: () => {}, loopbackPort: async () => 0 },
};

describe('microvm parts', () => {
  it('writes newc cpio archives that cpio reads back', { skip: !hasCpio() && 'no busybox cpio' }, () => {
    const archive = cpioArchive([
      { path: '.', type: 'dir', mode: 0o755 },
      { path: 'bin', type: 'dir', mode: 0o755 },
      { path: 'bin/hello', type: 'file', mode: 0o755, data: Buffer.from('odd length!') },
      { path: 'bin/sh', type: 'symlink', target: 'hello' },
    ]);
    assert.equal(archive.length % 4, 0);
    const listing = execFileSync('/bin/busybox', ['cpio', '-t', '-v'], { input: archive, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    assert.match(listing, /^drwxr-xr-x .* \.$/m);
    assert.match(listing, /^-rwxr-xr-x .* 11 .* bin\/hello$/m);
    assert.match(listing, /^lrwxrwxrwx .* bin\/sh -> hello$/m);
  });

  it('quotes every word for the guest shell, whatever it holds', () => {
    const words = ["it's", 'a "b" $HOME `x`', 'two\nlines', '', '--max-old-space-size=230'];
    const echoed = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    assert.deepEqual(echoed.split('\0').slice(0, -1), words);
  });

  it('launches the runtime as the unprivileged user, in the function cgroup, with only its environment', () => {
    const script = launchScript('/usr/bin/node', ['/var/runtime/nodejs/bootstrap.js'], { A: "it's" }, '/var/task/sub');
    assert.match(script, /^echo \$\$ > \/sys\/fs\/cgroup\/function\/cgroup.procs$/m);
    assert.match(script, /^cd '\/var\/task\/sub' \|\| exit 126$/m);
    assert.match(script, /exec \/bin\/env -i 'A=it'\\''s' \/bin\/su -p .* -- sbx_user1051 '\/usr\/bin\/node' '\/var\/runtime\/nodejs\/bootstrap.js'$/m);
    const message = launchMessage(script).toString();
    assert.equal(message, `launch ${Buffer.byteLength(script)}\n${script}`);
  });

  it('reads the guest’s reports', () => {
    assert.deepEqual(parseGuestMessage('exit 137 1 134217728'), { kind: 'exit', status: 137, outOfMemory: true, peakBytes: 134217728 });
    assert.deepEqual(parseGuestMessage('started'), { kind: 'started' });
    assert.deepEqual(parseGuestMessage('fail cannot mount /var/task'), { kind: 'fail', reason: 'cannot mount /var/task' });
    assert.equal(parseGuestMessage('exit seven'), undefined);
  });

  it('builds a microvm machine whose only way out is the Runtime API', () => {
    const machine: MachineSpec = {
      accelerator: 'tcg',
      kernel: '/k',
      initrd: '/i',
      kernelArgs: ['quiet'],
      memoryMb: 300,
      cpus: 1,
      shares: { task: '/data/with,comma' },
      portFds: { control: 3, stdout: 4, stderr: 5 },
      runtimeApiSocket: '/tmp/kindling-rtapi-x/runtime-api.sock',
      socat: '/usr/bin/socat',
      runAs: 1879048192,
    };
    const args = qemuArgs(machine);
    const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
    assert.match(after('-M')[0]!, /^microvm,/);
    assert.ok(args.includes('-nodefaults') && args.includes('-no-user-config'));
    assert.deepEqual(after('-netdev'), ['user,id=net0,ipv6=off,restrict=on,guestfwd=tcp:10.0.2.100:9001-cmd:/usr/bin/socat - UNIX-CONNECT:/tmp/kindling-rtapi-x/runtime-api.sock']);
    assert.deepEqual(after('-runas'), ['1879048192:1879048192'], "QEMU drops to the environment's own uid");
    assert.ok(after('-fsdev').includes('local,id=fs-task,path=/data/with,,comma,security_model=none,readonly=on'));
    assert.ok(after('-device').every((device) => !device.includes('-pci')), 'virtio-mmio devices only');
  });

  it('shows the guest /usr, the code, the runtime clients, and a runtime kept elsewhere', () => {
    const view = guestViewFor(SPEC);
    assert.deepEqual(view.shares, { usr: '/usr', task: '/data/code/abc', runtime: '/app/dist/src/runtimes' });
    assert.equal(view.command, '/usr/bin/node');
    assert.deepEqual(view.kernelArgs, ['kindling.mem=256', 'kindling.tmp=512']);
    const dir = mkdtempSync(join(tmpdir(), 'kindling-bin-'));
    try {
      writeFileSync(join(dir, 'node'), '');
      const elsewhere = guestViewFor({ ...SPEC, command: join(dir, 'node'), optDir: '/data/opt/x' });
      assert.equal(elsewhere.shares['bin'], dir);
      assert.equal(elsewhere.command, '/run/kindling-bin/node');
      assert.ok(elsewhere.kernelArgs.includes('kindling.bin=1') && elsewhere.kernelArgs.includes('kindling.opt=1'));
      assert.ok(!elsewhere.kernelArgs.some((arg) => arg.startsWith('kindling.egress') || arg.startsWith('kindling.deny')), 'no guest has a route out');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('orders kernel modules after their dependencies, skipping built-in ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-modules-'));
    try {
      writeFileSync(
        join(dir, 'modules.dep'),
        [
          'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko',
          'kernel/net/9p/9pnet.ko:',
          'kernel/fs/netfs/netfs.ko:',
          'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko',
          'kernel/drivers/virtio/virtio_ring.ko:',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/virtio/virtio_mmio.ko\n');
      const order = moduleLoadOrder(dir, ['virtio_mmio', '9p', '9pnet_virtio']).map((path) => path.slice(dir.length + 1));
      assert.deepEqual(order, ['kernel/net/9p/9pnet.ko', 'kernel/fs/netfs/netfs.ko', 'kernel/fs/9p/9p.ko', 'kernel/drivers/virtio/virtio_ring.ko', 'kernel/net/9p/9pnet_virtio.ko']);
      assert.throws(() => moduleLoadOrder(dir, ['virtio_net']), /virtio_net not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasCpio(): boolean {
  return existsSync('/bin/busybox');
}
