import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { EgressNetwork } from '../src/sandbox/egress/egress-network.js';
import { rulesScript, tableName } from '../src/sandbox/egress/egress-rules.js';
import { sandboxResolvConf } from '../src/sandbox/egress/resolver.js';
import { silentLogger } from '../src/shared/index.js';

describe('egress settings', () => {
  it('defaults to allow with no extra ranges, as Lambda gives functions the internet', () => {
    const config = loadConfig([], {});
    assert.equal(config.egress, 'allow');
    assert.deepEqual(config.egressDeny, []);
  });

  it('takes --egress deny and repeated --egress-deny, or KINDLING_EGRESS_DENY separated by commas', () => {
    const config = loadConfig(['--egress', 'deny', '--egress-deny', '10.0.0.0/8', '--egress-deny', '192.168.1.7'], {});
    assert.equal(config.egress, 'deny');
    assert.deepEqual(config.egressDeny, ['10.0.0.0/8', '192.168.1.7']);
    assert.deepEqual(loadConfig([], { KINDLING_EGRESS_DENY: '10.0.0.0/8, 172.16.0.0/12' }).egressDeny, ['10.0.0.0/8', '172.16.0.0/12']);
  });

  it('refuses a mode or a range it cannot honour, saying what it wants', () => {
    assert.throws(() => loadConfig(['--egress', 'host'], {}), (err) => err instanceof ConfigError && /--egress must be allow or deny/.test(err.message));
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/8', 'example.com', '10.0.0.0/8/1']) {
      assert.throws(() => loadConfig(['--egress-deny', bad], {}), (err) => err instanceof ConfigError && /--egress-deny must be an IPv4 address or CIDR/.test(err.message), bad);
    }
  });
});

describe("the sandbox's resolv.conf", () => {
  it("keeps the host's reachable name servers, search and options; drops loopback ones", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-resolv-'));
    try {
      const file = join(dir, 'resolv.conf');
      writeFileSync(file, '# comment\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.53\nsearch example.internal\noptions edns0\n');
      assert.equal(sandboxResolvConf(file), 'nameserver 192.0.2.53\nsearch example.internal\noptions edns0\n');
      writeFileSync(file, 'nameserver 127.0.0.53\n');
      assert.equal(sandboxResolvConf(file), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const noNft = EgressNetwork.unavailable() ?? false;

describe('the nftables table', { skip: noNft }, () => {
  it('is one nft accepts, with and without the forwarding guard and operator ranges (overlapping ones merge)', () => {
    for (const guard of [true, false]) {
      const script = rulesScript({ table: 'kindling-1-beef', tag: 'beef', deny: ['10.0.0.0/8', '10.1.0.0/16', '198.51.100.7'], guard });
      execFileSync('nft', ['-c', '-f', '-'], { input: script });
      assert.equal(script.includes('forwarding_guard'), guard);
    }
  });

  it("a server killed with SIGKILL leaves its table closed, and the next server to start removes it", async () => {
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const { EgressNetwork } = await import(${JSON.stringify(new URL('../src/sandbox/egress/egress-network.js', import.meta.url).href)});
       const { silentLogger } = await import(${JSON.stringify(new URL('../src/shared/index.js', import.meta.url).href)});
       await EgressNetwork.open({ deny: [], logger: silentLogger });
       console.log('open');
       setInterval(() => {}, 1000);`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    const left = () => execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).match(new RegExp(`kindling-${child.pid}-[0-9a-f]+`))?.[0];
    const table = left();
    assert.ok(table, 'the live server has its table');
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Still there, and still refusing: nothing a dead server leaves opens the host.
    const rules = execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });
    assert.match(rules, /iifname "kn[0-9a-f]{4}\*" reject/);
    assert.equal(execFileSync('cat', ['/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).trim(), '1');
    const next = await EgressNetwork.open({ deny: [], logger: silentLogger });
    try {
      assert.equal(left(), undefined, 'the next server removed it');
      assert.ok(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(tableName(process.pid, '')), 'and made its own');
    } finally {
      await next.close();
    }
  });
});
