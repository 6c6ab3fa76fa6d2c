/**
 * The nftables rules of one server's sandboxes (see egress-network.ts for how a sandbox is wired,
 * docs/network.md for why veth and nftables rather than a user-mode stack).
 *
 * Every sandbox gets a veth pair: `eth0` in its network namespace, `kn<tag><n>` on the host, no
 * address on the host's end. What those interfaces may do is written here, in a table of the
 * server's own (`inet kindling-<pid>-<tag>`), default closed:
 * - input: nothing from a sandbox reaches the host itself, on any of its addresses (Kindling's
 *   ports, the database, loopback services, the address on another interface) and in any
 *   protocol: every packet a sandbox sends to the host is refused before a socket sees it;
 * - forward: a sandbox reaches only IPv4 addresses outside `ALWAYS_DENIED` and the operator's
 *   `--egress-deny`, never another sandbox (its own server's or another's), and nothing is
 *   forwarded to it but the replies of its own connections;
 * - postrouting: its connections leave with the host's address (masquerade), as Lambda's do
 *   through a NAT gateway.
 * A drop or reject in any table is final in nftables whatever other tables accept, so a host firewall that
 * accepts everything does not open these.
 */

/** The sandboxes' own addresses (one /32 each); never a destination. */
export const SANDBOX_RANGE = '10.250.0.0/16';

/** What no sandbox reaches whatever the operator says: "this network", loopback, link-local (169.254.169.254, the metadata address, included), multicast and reserved, the sandboxes. */
export const ALWAYS_DENIED = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3', SANDBOX_RANGE] as const;

/** The prefix of every sandbox's host-side interface, whatever server made it. */
export const INTERFACE_PREFIX = 'kn';

/** The table of the server `pid` whose interfaces are `kn<tag>*`. */
export function tableName(pid: number, tag: string): string {
  return `kindling-${pid}-${tag}`;
}

/** `kindling-<pid>-<tag>`: the owner's pid, for sweeping tables a dead server left. */
export function tableOwner(name: string): number | undefined {
  const match = /^kindling-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * A sandbox's refused packet is answered "administratively prohibited" (EHOSTUNREACH at once for
 * the function), not dropped: a function learns it cannot go there instead of waiting for its
 * connect to time out. Traffic toward a sandbox is dropped silently.
 */
const REFUSE = 'reject with icmpx type admin-prohibited';

/** The chain that is present when forwarding was off before Kindling turned it on. */
export const GUARD_CHAIN = 'forwarding_guard';

export interface RulesInput {
  readonly table: string;
  /** The host-side interfaces of this server's sandboxes are `kn<tag>*`. */
  readonly tag: string;
  /** The operator's `--egress-deny` CIDRs (IPv4). */
  readonly deny: readonly string[];
  /**
   * The host forwarded nothing before Kindling turned forwarding on (net.ipv4.ip_forward was 0):
   * forward nothing but the sandboxes' traffic, so the host routes no more than before.
   */
  readonly guard: boolean;
}

/** The whole table, as one `nft -f` script: made (or replaced) in one transaction. */
export function rulesScript(input: RulesInput): string {
  const { table, tag } = input;
  const ours = `"${INTERFACE_PREFIX}${tag}*"`;
  const any = `"${INTERFACE_PREFIX}*"`;
  const denied = [...ALWAYS_DENIED, ...input.deny].join(', ');
  return [
    `table inet ${table} {`,
    '  set denied {',
    '    type ipv4_addr; flags interval; auto-merge;',
    `    elements = { ${denied} }`,
    '  }',
    '  chain input {',
    '    type filter hook input priority -10; policy accept;',
    `    iifname ${ours} ${REFUSE}`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    iifname ${ours} jump from_sandbox`,
    `    oifname ${ours} ct state established,related accept`,
    `    oifname ${ours} drop`,
    ...(input.guard ? [`    jump ${GUARD_CHAIN}`] : []),
    '  }',
    '  chain from_sandbox {',
    `    oifname ${any} ${REFUSE}`,
    `    meta nfproto != ipv4 ${REFUSE}`,
    `    ip daddr @denied ${REFUSE}`,
    '    accept',
    '  }',
    ...(input.guard ? [`  chain ${GUARD_CHAIN} {`, `    iifname != ${any} oifname != ${any} drop`, '  }'] : []),
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${SANDBOX_RANGE} oifname != ${any} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}
