import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/**
 * The sandbox's /etc/resolv.conf: the host's name servers, but for those on the host's own
 * loopback (systemd-resolved's 127.0.0.53, a local dnsmasq), which no sandbox reaches; the
 * search and options lines as they are. A host with only a loopback resolver gives functions
 * no DNS (docs/network.md says what to do).
 */
export function sandboxResolvConf(hostFile = '/etc/resolv.conf'): string {
  let text: string;
  try {
    text = readFileSync(hostFile, 'utf8');
  } catch {
    return '';
  }
  const kept = text.split('\n').filter((line) => {
    const [keyword, value] = line.trim().split(/\s+/);
    if (keyword === 'search' || keyword === 'domain' || keyword === 'options') return true;
    return keyword === 'nameserver' && value !== undefined && isIP(value) !== 0 && !isLoopback(value);
  });
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
