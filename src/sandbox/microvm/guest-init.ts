import { LAMBDA_ULIMITS } from '../sandbox.js';
import { shellQuote } from '../shell-quote.js';
import { GUEST } from './guest-protocol.js';

const { ports, shares, uid, gid, user, runtimeApi } = GUEST;
const FUNCTION_CGROUP = '/sys/fs/cgroup/function';
/** Where the guest sees the directory of a runtime binary that lives outside /usr on the host. */
export const GUEST_BIN_DIR = '/run/kindling-bin';

/**
 * PID 1 of every microVM, run by busybox's shell. It loads the virtio modules, mounts the
 * read-only shares and a private /tmp, puts the function's memory and process limits in a cgroup, brings up the one network link to the Runtime API, reads
 * its launch script from the control port, runs the runtime as an unprivileged user with its
 * output on two ports of its own (the kernel's console stays on the serial line), relays `stop`
 * as SIGTERM, and when the runtime ends reports its status, whether an OOM kill struck and the
 * cgroup's peak memory, then powers the machine off. Builtins only on the boot path where possible: every
 * fork costs under emulation.
 */
export const GUEST_INIT = `#!/bin/sh
export PATH=/bin
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,noexec devtmpfs /dev

control=
fail() {
  echo "kindling-init: $*"
  [ -n "$control" ] && echo "fail $*" >&3
  poweroff -f
  exit 1
}

mem_mb=128 tmp_mb=512 opt=0 bin=0 probe=0
read -r cmdline < /proc/cmdline
for word in $cmdline; do
  case $word in
    kindling.mem=*) mem_mb=\${word#*=} ;;
    kindling.tmp=*) tmp_mb=\${word#*=} ;;
    kindling.opt=1) opt=1 ;;
    kindling.bin=1) bin=1 ;;
    kindling.probe=1) probe=1 ;;
  esac
done
if [ $probe = 1 ]; then
  echo ${GUEST.probeOk}
  poweroff -f
  exit 1
fi

while read -r module; do
  insmod "/kindling/modules/$module" || fail "cannot load $module"
done < /kindling/modules.order

# QEMU names the virtio-serial ports shortly after the driver binds.
port() {
  tries=0
  while [ $tries -lt 500 ]; do
    for dir in /sys/class/virtio-ports/*; do
      [ -r "$dir/name" ] || continue
      read -r name < "$dir/name"
      if [ "$name" = "$1" ]; then
        echo "/dev/\${dir##*/}"
        return 0
      fi
    done
    usleep 10000
    tries=$((tries + 1))
  done
  return 1
}
control_port=$(port ${ports.control}) || fail "no control port"
out=$(port ${ports.stdout}) || fail "no stdout port"
err=$(port ${ports.stderr}) || fail "no stderr port"
exec 3<>"$control_port"
control=1

share() {
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,nosuid,nodev,cache=loose,msize=262144 "$1" "$2" || fail "cannot mount $2"
}
share ${shares.usr} /usr
share ${shares.task} /var/task
share ${shares.runtime} /var/runtime
# Lambda's /opt exists with or without layers (empty without).
mkdir -p /opt
[ $opt = 1 ] && share ${shares.opt} /opt
if [ $bin = 1 ]; then
  mkdir -p ${GUEST_BIN_DIR}
  share ${shares.bin} ${GUEST_BIN_DIR}
fi
mount -t tmpfs -o nosuid,nodev,mode=1777,size=\${tmp_mb}m tmpfs /tmp || fail "cannot mount /tmp"

# The function gets its MemorySize (the guest has room for its kernel on top) and Lambda's
# 1,024 processes; a breach is the cgroup's to handle, inside the guest.
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || fail "cannot mount cgroup2"
echo "+memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
mkdir ${FUNCTION_CGROUP}
echo "\${mem_mb}M" > ${FUNCTION_CGROUP}/memory.max || fail "cannot limit memory"
echo 1024 > ${FUNCTION_CGROUP}/pids.max

ip link set lo up
ip link set eth0 up || fail "no network device"
ip addr add 10.0.2.15/24 dev eth0

read -r word size <&3 || fail "no launch script from the host"
[ "$word" = launch ] || fail "unexpected '$word' from the host"
umask 077
head -c "$size" <&3 > /kindling/launch || fail "cannot read the launch script"
umask 022

oom_kills() {
  while read -r key value; do
    [ "$key" = oom_kill ] && echo "$value" && return
  done < "$1"
  echo 0
}
before=$(oom_kills /proc/vmstat)
cd /var/task
echo started >&3
sh /kindling/launch < /dev/null > "$out" 2> "$err" 3>&- &
pid=$!
(
  while read -r command <&3; do
    [ "$command" = stop ] && kill -TERM "$pid" 2> /dev/null
  done
  # End of file: the server is gone (it crashed), and so is this environment. Nobody is left to
  # report to (a write to the port would block until the host came back): power off from here.
  kill -KILL "$pid" 2> /dev/null
  poweroff -f
) &
wait "$pid"
status=$?
oom=0
[ "$(oom_kills ${FUNCTION_CGROUP}/memory.events)" != 0 ] && oom=1
[ "$(oom_kills /proc/vmstat)" != "$before" ] && oom=1
read -r peak < ${FUNCTION_CGROUP}/memory.peak
echo "exit $status $oom $peak" >&3
poweroff -f
exit 1
`;

/**
 * Runs `command args...` as the function's user with exactly `env`, in `workingDir`, from the
 * guest's /init (which starts it in /var/task).
 */
export function launchScript(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  workingDir?: string,
): string {
  const assignments = Object.entries(env).map(([name, value]) => shellQuote(`${name}=${value}`));
  return [
    `echo $$ > ${FUNCTION_CGROUP}/cgroup.procs`,
    ...(workingDir ? [`cd ${shellQuote(workingDir)} || exit 126`] : []),
    // Should the whole guest run short, its OOM killer picks the runtime, never the init.
    'echo 1000 > /proc/self/oom_score_adj',
    LAMBDA_ULIMITS,
    [
      'exec /bin/env -i',
      ...assignments,
      `/bin/su -p -s /bin/sh -c 'unset SHLVL; exec /bin/setpriv --nnp "$0" "$@"' -- ${user}`,
      ...[command, ...args].map(shellQuote),
    ].join(' '),
    '',
  ].join('\n');
}

/** The guest's /etc: the function's user and the names a runtime looks up. */
export const GUEST_ETC: Readonly<Record<string, string>> = {
  passwd: `root:x:0:0:root:/root:/bin/sh\n${user}:x:${uid}:${gid}::/tmp:/bin/false\n`,
  group: `root:x:0:\n${user}:x:${gid}:\n`,
  hosts: `127.0.0.1 localhost\n${runtimeApi.address} runtime-api\n`,
  'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
  hostname: 'localhost\n',
};
