/**
 * SwarmNode in Node against a real relay, on loopback only (autoConnect off, so no WebRTC:
 * direct WebRTC between peers is covered by the e2e layer inside the network namespace).
 * Covers: reservation, heartbeat membership with capability records through the relay,
 * tensors over a relayed libp2p stream with checksums, malformed frames on a real stream
 * rejected with named errors while the peer keeps working, an announced leave (stop()) seen at
 * once, and leave detection by timeout for a peer that vanishes silently.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../../relay/src/relay.ts';
import { crc32 } from '../../src/net/crc32.ts';
import { RelayConnectError, SwarmNodeStateError } from '../../src/net/errors.ts';
import { encodeTensorFrames, type WireTensor } from '../../src/net/frame.ts';
import { HEARTBEAT_TOPIC, NET_DEFAULTS, TENSOR_PROTOCOL } from '../../src/net/constants.ts';
import { SwarmNode } from '../../src/net/swarm-node.ts';
import { freshSeed, mulberry32 } from '../../src/util/random.ts';

let relay: RunningRelay;
let a: SwarmNode;
let b: SwarmNode;
let c: SwarmNode;
const got: { t: WireTensor; from: string }[] = [];
const timing = { heartbeatIntervalMs: 200, leaveTimeoutMs: 1500, discoveryIntervalMs: 300, autoConnect: false };

async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tensor(n: number, seed: number, tensorId: number): WireTensor {
  const rnd = mulberry32(seed);
  const f = new Float32Array(n).map(() => rnd() - 0.5);
  return { jobId: 4, step: 2, tensorId, codec: 'none', dtype: 'f32', shape: [n], data: new Uint8Array(f.buffer) };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-swarm-node-'));
  relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir, rosterIntervalMs: timing.heartbeatIntervalMs });
  const addrs = relay.info().multiaddrs;
  a = new SwarmNode({ relay: addrs, capabilities: { backend: 'webgpu', gflops: 123.5, runtime: 'node' }, ...timing });
  b = new SwarmNode({ relay: addrs, capabilities: { backend: 'wasm', memoryBytes: 2 ** 30, runtime: 'node' }, ...timing });
  c = new SwarmNode({ relay: addrs, capabilities: { backend: 'cpu', runtime: 'node' }, ...timing });
  await Promise.all([a.start(), b.start(), c.start()]);
  b.onTensor((t, from) => got.push({ t, from }));
});

afterAll(async () => {
  await a?.stop();
  await b?.stop().catch(() => {});
  await c?.stop().catch(() => {});
  await relay?.stop();
});

describe('SwarmNode (Node, relayed path)', () => {
  it('reserves on the relay and reports its setup phases', () => {
    expect(a.webrtcAddrs().some((x) => x.includes('/p2p-circuit/webrtc'))).toBe(true);
    for (const k of ['create_ms', 'dial_relay_ms', 'reservation_ms', 'start_total_ms']) expect(a.timings[k]).toBeGreaterThanOrEqual(0);
  });

  it('learns members and their capability records from heartbeats, ignoring the relay', async () => {
    await until('heartbeats both ways', 10_000, () => a.capabilities(b.peerId)?.backend === 'wasm' && b.capabilities(a.peerId)?.backend === 'webgpu');
    expect(b.capabilities(a.peerId)).toMatchObject({ backend: 'webgpu', gflops: 123.5, runtime: 'node' });
    await until('c as a member', 10_000, () => a.capabilities(c.peerId)?.backend === 'cpu');
    expect(a.peers().map((m) => m.peerId).sort()).toEqual([b.peerId, c.peerId].sort());
  });

  it("keeps a member without topic heartbeats alive and discovered through the relay's roster", async () => {
    // d publishes no heartbeat on the topic and (once it knows a member) discovery records
    // only every 20 s: with leaveTimeoutMs 1.5 s, only the relay's roster keeps it a member.
    const d = new SwarmNode({ relay: relay.info().multiaddrs, capabilities: { backend: 'cpu', runtime: 'node' }, ...timing, gossipHeartbeatEvery: 0 });
    await d.start();
    const dId = d.peerId;
    try {
      await until('d as a member of a', 10_000, () => a.peers().some((m) => m.peerId === d.peerId));
      const rosters = a.stats.rosters;
      await new Promise((r) => setTimeout(r, 3 * timing.leaveTimeoutMs));
      expect(a.peers().map((m) => m.peerId)).toContain(d.peerId);
      expect(a.stats.rosters).toBeGreaterThan(rosters);
      expect(relay.metrics().relay_roster_peers).toBe(4);
      // A roster-shaped message from a peer is a (bad) heartbeat, not a roster: a peer cannot
      // vouch for others.
      const fake = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
      const bad = a.stats.badHeartbeats;
      await d.libp2p.services.pubsub.publish(HEARTBEAT_TOPIC, new TextEncoder().encode(JSON.stringify({ v: 1, roster: [fake] })));
      await until('the fake roster to arrive', 5_000, () => a.stats.badHeartbeats > bad);
      expect(a.peers().map((m) => m.peerId)).not.toContain(fake);
    } finally {
      await d.stop();
    }
    await until('d gone', 5_000, () => !a.peers().some((m) => m.peerId === dId));
  });

  it('sends tensors over the relayed stream (allowRelayed), intact', async () => {
    await a.connectRelayed(b.peerId);
    const t = tensor(300_000, freshSeed(), 1);
    const r = await a.sendTensor(b.peerId, t, { allowRelayed: true });
    expect(r.bytes).toBe(1_200_000);
    await until('the tensor', 5000, () => got.length === 1);
    expect(got[0]!.from).toBe(a.peerId);
    expect(crc32(got[0]!.t.data)).toBe(crc32(t.data));
    expect(a.stats.tensorsOut).toBe(1);
    expect(b.stats.bytesIn).toBe(1_200_000);
  });

  it('rejects malformed frames on a real stream with named errors and keeps serving', async () => {
    const conn = await a.connectRelayed(b.peerId);
    const bad = [...encodeTensorFrames(tensor(1000, 1, 2), 1024)];
    bad[1] = bad[1]!.slice();
    bad[1][100]! ^= 0xff; // payload bit flip in chunk 1
    const s = await conn.newStream(TENSOR_PROTOCOL, { runOnLimitedConnection: true });
    for (const f of bad) s.send(f);
    await s.close().catch(() => {});
    const s2 = await conn.newStream(TENSOR_PROTOCOL, { runOnLimitedConnection: true });
    s2.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await s2.close().catch(() => {});
    await until('both rejections', 5000, () => (b.stats.frameErrors.FrameChecksumError ?? 0) >= 1 && (b.stats.frameErrors.FrameMagicError ?? 0) >= 1);
    const t = tensor(5000, 9, 3);
    await a.sendTensor(b.peerId, t, { allowRelayed: true });
    await until('the good tensor', 5000, () => got.some((g) => g.t.tensorId === 3));
    expect(got.filter((g) => g.t.tensorId === 2)).toEqual([]);
  });

  it('drops a peer that stops at once: stop() announces the leave (reason "announced")', async () => {
    const left = new Promise<{ at: number; d: { peerId: string; reason: string; message?: string } }>((ok) =>
      a.addEventListener('peer:leave', (e) => ok({ at: Date.now(), d: (e as CustomEvent).detail }), { once: true }),
    );
    const [bId, cId] = [b.peerId, c.peerId];
    const t0 = Date.now();
    await b.stop();
    const { at, d } = await left;
    expect(d).toMatchObject({ peerId: bId, reason: 'announced', message: 'stopped' });
    // Well before the timeout path could have fired (leaveTimeoutMs of silence).
    expect(at - t0).toBeLessThan(timing.leaveTimeoutMs);
    expect(a.peers().map((m) => m.peerId)).toEqual([cId]);
    expect(() => b.libp2p).toThrow(SwarmNodeStateError);
  });

  it('detects a peer that vanishes silently within leaveTimeoutMs + one heartbeat (reason "timeout")', async () => {
    const left = new Promise<{ at: number; d: { peerId: string; reason: string } }>((ok) =>
      a.addEventListener('peer:leave', (e) => ok({ at: Date.now(), d: (e as CustomEvent).detail }), { once: true }),
    );
    const cId = c.peerId;
    const t0 = Date.now();
    await c.stop({ announce: false });
    const { at, d } = await left;
    expect(d).toMatchObject({ peerId: cId, reason: 'timeout' });
    expect(at - t0).toBeLessThanOrEqual(timing.leaveTimeoutMs + timing.heartbeatIntervalMs + 500);
    expect(a.peers()).toEqual([]);
  });

  it('fails to start with RelayConnectError when the relay is unreachable, after relayDialAttempts tries', async () => {
    const id = relay.info().peerId;
    const n = new SwarmNode({ relay: `/ip4/127.0.0.1/tcp/1/ws/p2p/${id}` });
    const err = await n.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayConnectError);
    expect((err as Error).message).toContain(`attempt ${NET_DEFAULTS.relayDialAttempts}:`);
    await expect(new SwarmNode({ relay: '/ip4/127.0.0.1/tcp/1/ws' }).start()).rejects.toThrow(RelayConnectError);
  });
});
