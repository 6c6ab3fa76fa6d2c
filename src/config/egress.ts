import { isIPv4 } from 'node:net';

/** The operator's outbound network settings (docs/network.md). */
export interface EgressSettings {
  /** `allow` (the default, as on Lambda): sandboxes reach the outside, never the host. `deny`: a loopback only. */
  readonly egress: 'allow' | 'deny';
  /** IPv4 CIDRs no sandbox reaches, besides those none ever does (`--egress-deny`, repeatable). */
  readonly egressDeny: readonly string[];
}

/**
 * `--egress allow|deny` and `--egress-deny CIDR` (repeatable; KINDLING_EGRESS_DENY takes them
 * separated by commas). Sandboxes have no IPv6 route out at all, so only IPv4 CIDRs mean anything.
 */
export function egressSettings(mode: string | undefined, deny: readonly string[], invalid: (message: string) => Error): EgressSettings {
  const egress = mode === undefined || mode === '' ? 'allow' : mode;
  if (egress !== 'allow' && egress !== 'deny') throw invalid(`--egress must be allow or deny, got '${mode}'`);
  const cidrs = deny.flatMap((raw) => raw.split(',')).map((cidr) => cidr.trim()).filter((cidr) => cidr !== '');
  for (const cidr of cidrs) {
    const [address, bits, extra] = cidr.split('/');
    const prefix = Number(bits ?? '32');
    if (extra !== undefined || !isIPv4(address ?? '') || !/^\d{1,2}$/.test(bits ?? '32') || prefix > 32) {
      throw invalid(`--egress-deny must be an IPv4 address or CIDR such as 10.0.0.0/8 (sandboxes have no IPv6 route out), got '${cidr}'`);
    }
  }
  return { egress, egressDeny: cidrs };
}
