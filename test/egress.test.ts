import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { EgressNetwork } from '../src/sandbox/egress/egress-network.js';
import { sandboxResolvConf } from '../src/sandbox/egress/resolver.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { nodeFunction } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';
import { Outside } from './support/outside.js';

/**
 * A function that tries the network from inside its sandbox and says what happened: `fetch`
 * (URLs: the body, or the error's code), `connect` (host:port: `connected` or the error's code),
 * `listen` (a server on 0.0.0.0:7000, kept across invokes: its addresses).
 */
const PROBE = `
const net = require('node:net');
const os = require('node:os');
let server;
const code = (err) => (err && (err.cause?.code ?? err.code)) ?? String(err);
// A bound on each attempt so that the function answers; the assertions are on what happened.
const connect = (target) => new Promise((resolve) => {
  const [host, port] = target.split(/:(?=\\d+$)/);
  const socket = net.connect({ host, port: Number(port), timeout: 4000 });
  socket.once('connect', () => { socket.destroy(); resolve('connected'); });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (err) => resolve(err.code));
});
const get = async (url) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    return res.status + ' ' + (await res.text());
  } catch (err) { return code(err); }
};
exports.handler = async (event) => {
  const out = { endpoint: process.env.AWS_ENDPOINT_URL ?? null };
  if (event.listen) {
    server ??= await new Promise((resolve) => { const s = net.createServer((c) => c.end('sandbox')); s.listen(7000, '0.0.0.0', () => resolve(s)); });
    out.addresses = Object.values(os.networkInterfaces()).flat().filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address);
  }
  if (event.resolv) out.resolv = require('node:fs').readFileSync('/etc/resolv.conf', 'utf8');
  if (event.fetch) out.fetch = await Promise.all(event.fetch.map(get));
  if (event.connect) out.connect = Object.fromEntries(await Promise.all(event.connect.map(async (t) => [t, await connect(t)])));
  return out;
};
`;

interface ProbeResult {
  endpoint: string | null;
  addresses?: string[];
  fetch?: string[];
  connect?: Record<string, string>;
  resolv?: string;
}

/** What a refused connection looks like from inside: never connected, never refused by a listening host. */
const BLOCKED = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'timeout', 'EACCES', 'EPERM']);

async function deploy(server: TestServer, name: string, tags: Record<string, string> = {}): Promise<void> {
  await server.lambda.send(new CreateFunctionCommand(await nodeFunction(name, PROBE, { Tags: tags, Timeout: 30 })));
  await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 60 }, { FunctionName: name });
}

async function probe(server: TestServer, name: string, event: object): Promise<ProbeResult> {
  const out = await server.lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event) }));
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
  return json(out.Payload) as ProbeResult;
}

function assertBlocked(result: ProbeResult, what: string): void {
  for (const [target, outcome] of Object.entries(result.connect ?? {})) {
    assert.ok(BLOCKED.has(outcome), `${what}: ${target} was ${outcome}, not refused by the egress rules`);
  }
}

/** The host's own IPv4 addresses besides loopback (eth0's, the veth to the outside's, ...). */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flat().filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

const namespaceUnavailable = await new NamespaceSandboxDriver().unavailable();
const skip = namespaceUnavailable ?? EgressNetwork.unavailable() ?? false;

describe('outbound network from functions', { skip }, () => {
  let outside: Outside;
  let server: TestServer;
  const hostServers: Server[] = [];
  let anyPort = 0;
  let loopbackPort = 0;
  let apiPort = 0;
  const forwardingBefore = skip ? '' : execFileSync('cat', ['/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });

  before(async () => {
    outside = await Outside.create();
    // Services on the host: one on every address, one on loopback only.
    const everywhere = createServer((_req, res) => res.end('host'));
    const loopback = createServer((_req, res) => res.end('host loopback'));
    hostServers.push(everywhere, loopback);
    anyPort = await listen(everywhere, '0.0.0.0');
    loopbackPort = await listen(loopback, '127.0.0.1');
    server = await startTestServer({ sandbox: 'namespace', allowSandbox: ['namespace', 'process'], host: '0.0.0.0' });
    apiPort = Number(new URL(server.kindling.url).port);
    await deploy(server, 'reach');
    await deploy(server, 'reach-process', { 'kindling:sandbox': 'process' });
    await deploy(server, 'offline', { 'kindling:network': 'none' });
    await deploy(server, 'neighbour');
  });

  after(async () => {
    await server?.close();
    for (const s of hostServers) s.close();
    await outside?.close();
  });

  for (const fn of ['reach', 'reach-process']) {
    const driver = fn === 'reach' ? 'namespace' : 'process';
    it(`reaches the outside from the ${driver} sandbox, through NAT`, async () => {
      const result = await probe(server, fn, { fetch: [`${outside.url}/hello`] });
      assert.deepEqual(result.fetch, ['200 outside /hello']);
    });

    it(`never reaches the host from the ${driver} sandbox: its API port, its services, any of its addresses, the metadata address`, async () => {
      const targets = [
        ...hostAddresses().flatMap((address) => [`${address}:${apiPort}`, `${address}:${anyPort}`, `${address}:${loopbackPort}`]),
        `${outside.hostAddress}:${anyPort}`,
        // The sandbox's next hop, and the link-local range with the metadata service's address in it.
        `169.254.1.1:${anyPort}`,
        '169.254.169.254:80',
      ];
      assert.ok(targets.some((t) => t.startsWith(`${outside.hostAddress}:`)));
      const result = await probe(server, fn, { connect: targets });
      assertBlocked(result, driver);
      // The same services answer from the host itself: they were there to be reached.
      const fromHost = await fetch(`http://${outside.hostAddress}:${anyPort}/`);
      assert.equal(await fromHost.text(), 'host');
    });
  }

  it("gives the namespace sandbox the host's name servers, but for loopback ones it cannot reach", async () => {
    const result = await probe(server, 'reach', { resolv: true });
    assert.equal(result.resolv, sandboxResolvConf());
    assert.doesNotMatch(result.resolv ?? '', /nameserver 127\./);
  });

  it("never reaches another sandbox's listener", async () => {
    const other = await probe(server, 'neighbour', { listen: true });
    assert.equal(other.addresses?.length, 1, `one address besides loopback: ${other.addresses?.join(', ')}`);
    const result = await probe(server, 'reach', { connect: [`${other.addresses![0]}:7000`] });
    assertBlocked(result, 'sandbox to sandbox');
  });

  it('kindling:network=none leaves a function no route out', async () => {
    const result = await probe(server, 'offline', { fetch: [`${outside.url}/`], listen: true });
    assert.deepEqual(result.addresses, []);
    assert.ok(BLOCKED.has(result.fetch![0]!), `got ${result.fetch![0]}`);
  });

  it('gives functions AWS_ENDPOINT_URL: Kindling\'s API through the bridge, with no route to the host', async () => {
    const result = await probe(server, 'reach', {});
    assert.equal(result.endpoint, 'http://127.0.0.1:9002');
    const listed = await probe(server, 'reach', { fetch: [`${result.endpoint}/2015-03-31/functions`] });
    assert.match(listed.fetch![0]!, /^200 /);
    const names = (JSON.parse(listed.fetch![0]!.slice(4)) as { Functions: { FunctionName: string }[] }).Functions.map((f) => f.FunctionName);
    assert.ok(names.includes('reach') && names.includes('offline'), names.join(', '));
    const viaProcess = await probe(server, 'reach-process', { fetch: [`${result.endpoint}/2015-03-31/functions`] });
    assert.match(viaProcess.fetch![0]!, /^200 /);
    const offline = await probe(server, 'offline', { fetch: [`${result.endpoint}/2015-03-31/functions`] });
    assert.match(offline.fetch![0]!, /^200 /, 'the bridge needs no network: a function without egress still reaches the API');
  });

  describe('operators', () => {
    let denied: TestServer | undefined;
    after(async () => denied?.close());

    it('--egress deny: no function has a route out', async () => {
      denied = await startTestServer({ sandbox: 'namespace', egress: 'deny', prewarm: 0 });
      await deploy(denied, 'shut');
      const result = await probe(denied, 'shut', { fetch: [`${outside.url}/`], listen: true });
      assert.deepEqual(result.addresses, []);
      assert.ok(BLOCKED.has(result.fetch![0]!), `got ${result.fetch![0]}`);
      await denied.close();
      denied = undefined;
    });

    it('--egress-deny CIDR: that range is refused, the rest of the outside is not', async () => {
      denied = await startTestServer({ sandbox: 'namespace', egressDeny: [`${outside.address}/32`], prewarm: 0 });
      await deploy(denied, 'narrowed');
      const result = await probe(denied, 'narrowed', { fetch: [`${outside.url}/`], listen: true });
      assert.equal(result.addresses?.length, 1, 'it has its route out');
      assert.ok(BLOCKED.has(result.fetch![0]!), `got ${result.fetch![0]}`);
      await denied.close();
      denied = undefined;
    });
  });

  it('leaves nothing behind once closed: no table, no interface, forwarding as it was', async () => {
    await server.close();
    const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    assert.doesNotMatch(tables, new RegExp(`kindling-${process.pid}-`));
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    assert.doesNotMatch(links, /: kn[0-9a-f]{4}/);
    assert.equal(execFileSync('cat', ['/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }), forwardingBefore);
  });
});
