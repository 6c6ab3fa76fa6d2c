/**
 * What the host and the guest's /init agree on. The control port carries, host to guest,
 * `launch <bytes>\n<script>` once and `stop\n` at Shutdown; guest to host, `started\n` as the runtime
 * starts, `exit <status> <oom> <peak bytes>\n` when it has ended, or `fail <reason>\n` when the guest could not
 * start it.
 */
export const GUEST = {
  /** The guest's Runtime API address; QEMU forwards it to the environment's endpoint on the host. */
  runtimeApi: { address: '10.0.2.100', port: 9001 },
  /** Lambda runs functions as sbx_user1051 (993), group 990. */
  uid: 993,
  gid: 990,
  user: 'sbx_user1051',
  ports: { control: 'kindling.ctl', stdout: 'kindling.stdout', stderr: 'kindling.stderr' },
  /** The 9p mount tags of the read-only shares. */
  shares: { usr: 'usr', task: 'task', runtime: 'runtime', opt: 'opt', bin: 'bin' },
  /** Printed on the console by a guest booted only to test the accelerator. */
  probeOk: 'KINDLING-PROBE-OK',
} as const;

export type GuestMessage =
  | { readonly kind: 'started' }
  | { readonly kind: 'exit'; readonly status: number; readonly outOfMemory: boolean; readonly peakBytes: number }
  | { readonly kind: 'fail'; readonly reason: string };

export function parseGuestMessage(line: string): GuestMessage | undefined {
  if (line === 'started') return { kind: 'started' };
  const exit = /^exit (\d+) ([01]) (\d+)$/.exec(line);
  if (exit) return { kind: 'exit', status: Number(exit[1]), outOfMemory: exit[2] === '1', peakBytes: Number(exit[3]) };
  if (line.startsWith('fail ')) return { kind: 'fail', reason: line.slice(5) };
  return undefined;
}

/** The control message that hands the guest its launch script. */
export function launchMessage(script: string): Buffer {
  const body = Buffer.from(script);
  return Buffer.concat([Buffer.from(`launch ${body.length}\n`), body]);
}

export const STOP_MESSAGE = 'stop\n';
