/**
 * The relay's libp2p node: identity persists across restarts, a Node client reserves a
 * circuit slot over WebSockets, and /api/health, /api/metrics and /api/relay report it.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { describe, expect, it } from 'vitest';
import { IDENTITY_FILE, startRelay } from '../src/relay.ts';

const dataDir = () => mkdtempSync(join(tmpdir(), 'sg-relay-'));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

describe('relay libp2p node', () => {
  it('keeps its identity (and so its multiaddr) across restarts', async () => {
    const dir = dataDir();
    const a = await startRelay({ dataDir: dir, httpPort: 0, wsPort: 0, webDir: dir });
    const idA = a.info().peerId;
    await a.stop();
    expect(statSync(join(dir, IDENTITY_FILE)).mode & 0o777).toBe(0o600);
    const b = await startRelay({ dataDir: dir, httpPort: 0, wsPort: 0, webDir: dir });
    expect(b.info().peerId).toBe(idA);
    await b.stop();
    const c = await startRelay({ dataDir: dataDir(), httpPort: 0, wsPort: 0, webDir: dir });
    expect(c.info().peerId).not.toBe(idA);
    await c.stop();
  });

  it('serves its multiaddrs over HTTP and counts a client reservation in the metrics', async () => {
    const dir = dataDir();
    const relay = await startRelay({ dataDir: dir, httpPort: 0, wsPort: 0, webDir: dir });
    const client = await createLibp2p({
      addresses: { listen: ['/p2p-circuit'] },
      transports: [webSockets(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
      services: { identify: identify() },
    });
    try {
      const info = await (await fetch(`${relay.http.url}api/relay`)).json();
      expect(info.peerId).toBe(relay.info().peerId);
      const ws = (info.multiaddrs as string[]).find((a) => a.includes('/ws/'));
      expect(ws).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//);
      await client.dial(multiaddr(ws!));
      const reserved = await until(() => client.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')), 10_000);
      expect(reserved).toBe(true);
      const m = await (await fetch(`${relay.http.url}api/metrics`)).json();
      expect(m.relay_reservations).toBe(1);
      expect(m.connections_opened_total).toBeGreaterThanOrEqual(1);
      expect(m.connections).toBeGreaterThanOrEqual(1);
      expect(m.peers).toBeGreaterThanOrEqual(1);
      const text = await (await fetch(`${relay.http.url}api/metrics?format=prometheus`)).text();
      expect(text).toContain('swarmgrad_relay_reservations 1');
      const h = await (await fetch(`${relay.http.url}api/health`)).json();
      expect(h).toMatchObject({ ok: true, relay: info.peerId, libp2p: 'started' });
    } finally {
      await client.stop();
      await relay.stop();
    }
  });

  it('closes both servers on stop', async () => {
    const dir = dataDir();
    const relay = await startRelay({ dataDir: dir, httpPort: 0, wsPort: 0, webDir: dir });
    const url = relay.http.url;
    await relay.stop();
    expect(relay.libp2p.status).toBe('stopped');
    await expect(fetch(`${url}api/health`)).rejects.toThrow();
  });
});

describe('swarmgrad CLI usage', () => {
  it('answers bad relay/swarm arguments with usage errors (exit code 2), starting nothing', async () => {
    const { main } = await import('../src/cli.ts');
    expect(await main(['swarm'])).toBe(2);
    expect(await main(['swarm', '--relay', 'http://localhost:1/', '--peers', '0'])).toBe(2);
    expect(await main(['relay', '--port', '70000'])).toBe(2);
    expect(await main(['nope'])).toBe(2);
  });
});
