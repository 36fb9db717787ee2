/**
 * The swarm end to end: a relay, 6 headless Chromium volunteers (launchSwarm; another count
 * with SWARMGRAD_E2E_PEERS=N, see BROWSER_PEERS) and 1 Node peer
 * (SwarmNode on node-datachannel) find each other through the relay, form direct WebRTC
 * connections (a full mesh), move 16 MiB tensors with verified checksums, reject malformed
 * frames on a real stream with named errors and keep working, keep their direct links and
 * membership when the relay stops, drop a peer that stops (it announces its leave) at once, and
 * notice a peer that vanishes without a word (a crashed tab) within the documented timeout.
 *
 * Runs inside the hermetic network namespace of test/netns/run.sh (`npm run test:e2e` wraps
 * the e2e layer in it): Chromium needs a non-loopback interface to gather candidates, and no
 * traffic may touch a real interface.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebRTC } from '@multiformats/multiaddr-matcher';
import { launchSwarm, type RunningSwarm, type SwarmPeer } from '@swarmgrad/peer-core/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crc32,
  encodeFrame,
  encodeTensorFrames,
  FRAME_VERSION,
  headerBytes,
  NET_DEFAULTS,
  SwarmNode,
  TENSOR_PROTOCOL,
  type WireTensor,
} from '../../peer-core/src/net/index.ts';
import { type RunningRelay, startRelay } from '../../relay/src/relay.ts';
import { type ReceivedRecord, seededBytes } from './pages/peer-api.ts';

/** Browser peers besides the Node peer: 6, as the issue asks. Measured on the shared 2-core
 *  machine after the mesh fixes (docs/NETWORK.md, "Mesh formation"): the e2e layer took 58 s
 *  with 4 and 109 s with 6, one after the other. `SWARMGRAD_E2E_PEERS=4 npm run test:e2e` for a
 *  quicker run. */
const BROWSER_PEERS = Number(process.env.SWARMGRAD_E2E_PEERS ?? 6);
const MiB = 1024 * 1024;
const inNetns = process.env.SWARMGRAD_NETNS === '1';

interface PeerInfo {
  peerId: string;
  direct: string[];
  members: string[];
  capabilities: Record<string, Record<string, unknown> | null>;
  connections: { peerId: string; remoteAddr: string; direct: boolean; multiplexer?: string; limited: boolean; status: string }[];
  stats: { frameErrors: Record<string, number>; dials: { ms: number; attempts: number; ok: boolean }[]; warmupMs: Record<string, number> };
  leaves: { peerId: string; at: number; reason?: string }[];
  frameErrors: { name: string }[];
}

let relay: RunningRelay;
let swarm: RunningSwarm;
let nodePeer: SwarmNode;
const nodeReceived: ReceivedRecord[] = [];
const nodeLeaves: { peerId: string; at: number; reason?: string }[] = [];
/** The page whose renderer the leave test crashes on purpose (its crash is expected). */
let crashedIndex: number | undefined;

const info = (p: SwarmPeer) => p.info() as unknown as Promise<PeerInfo>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, cond: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Raw bytes over a fresh tensor stream on the Node peer's direct connection to `peerId`. */
async function sendRawFromNode(peerId: string, bytes: Uint8Array): Promise<void> {
  const conn = await nodePeer.connectDirect(peerId);
  const s = await conn.newStream(TENSOR_PROTOCOL);
  s.send(bytes);
  await s.close().catch(() => {});
}

// Without the namespace Chromium would use the machine's real interface: refuse, with the reason.
describe.skipIf(!inNetns)('swarm e2e (needs the test/netns/run.sh namespace: run `npm run test:e2e`)', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-e2e-relay-'));
    relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
    nodePeer = new SwarmNode({ relay: relay.info().multiaddrs, capabilities: { backend: 'cpu', runtime: 'node' } });
    nodePeer.onTensor((t, from) => nodeReceived.push({ from, jobId: t.jobId, step: t.step, tensorId: t.tensorId, bytes: t.data.length, crc: crc32(t.data), at: Date.now() }));
    nodePeer.addEventListener('peer:leave', (e) => nodeLeaves.push({ peerId: (e as CustomEvent).detail.peerId, at: Date.now(), reason: (e as CustomEvent).detail.reason }));
    await nodePeer.start();
    swarm = await launchSwarm({ relay: relay.http.url, peers: BROWSER_PEERS, startConcurrency: 2 });
    await swarm.waitForMesh(120_000);
    await until('the Node peer to reach every browser directly', 60_000, () => swarm.peers.every((p) => nodePeer.directPeers().includes(p.peerId)));
  });

  afterAll(async () => {
    await swarm?.close();
    await nodePeer?.stop();
    await relay?.stop();
  });

  it(`forms a full mesh of direct WebRTC connections (not relayed) between ${BROWSER_PEERS} browsers and 1 Node peer`, async () => {
    const ids = [...swarm.peers.map((p) => p.peerId), nodePeer.peerId];
    // waitForMesh covers the browsers; the Node peer's links, and any link that is being
    // re-dialled after a drop, get a bounded wait before the strict checks below.
    await until('a direct link from every browser to every other peer, the Node peer included', 60_000, async () => {
      for (const p of swarm.peers) {
        const i = await info(p);
        for (const other of ids) {
          if (other !== p.peerId && !i.connections.some((c) => c.peerId === other && c.direct && c.status === 'open')) return false;
        }
      }
      return true;
    });
    for (const p of swarm.peers) {
      const i = await info(p);
      for (const other of ids.filter((id) => id !== p.peerId)) {
        const direct = i.connections.filter((c) => c.peerId === other && c.direct && c.status === 'open');
        expect(direct.length, `peer ${p.index} -> ${other}`).toBeGreaterThanOrEqual(1);
        expect(direct[0]!.multiplexer).toBe('/webrtc');
        expect(direct[0]!.limited).toBe(false);
      }
    }
    // On the Node side, check the real Connection objects with the matcher itself.
    for (const p of swarm.peers) {
      const conns = nodePeer.libp2p.getConnections().filter((c) => c.remotePeer.toString() === p.peerId);
      const direct = conns.filter((c) => WebRTC.exactMatch(c.remoteAddr));
      expect(direct.length, `node -> ${p.index}: ${conns.map((c) => c.remoteAddr.toString()).join(', ')}`).toBeGreaterThanOrEqual(1);
      expect(direct[0]!.multiplexer).toBe('/webrtc');
      expect(direct[0]!.limits).toBeUndefined();
    }
    // Dial times of the mesh are reported; the 2 s target lives in the benchmark.
    const dials = (await Promise.all(swarm.peers.map(info))).flatMap((i) => i.stats.dials);
    const ok = dials.filter((d) => d.ok);
    console.log(`mesh dials: ${ok.length} ok (max ${Math.max(...ok.map((d) => d.ms)).toFixed(0)} ms, ${ok.filter((d) => d.attempts > 1).length} retried), ${dials.length - ok.length} gave up before a later success`);
  });

  it('publishes capability records to every member', async () => {
    await until('capability records from all peers', 20_000, async () => {
      const i = await info(swarm.peers[0]!);
      return swarm.peers.slice(1).every((p) => i.capabilities[p.peerId]?.runtime === 'browser') && i.capabilities[nodePeer.peerId]?.runtime === 'node';
    });
    expect(nodePeer.capabilities(swarm.peers[1]!.peerId)?.backend).toBe('cpu');
  });

  it(`moves 16 MiB tensors around a ring of all ${BROWSER_PEERS + 1} peers with verified checksums`, async () => {
    // One transfer at a time: 5 concurrent 16 MiB transfers starve the renderers of a shared
    // 2-core CI machine; throughput under load is the benchmark's business.
    const n = swarm.peers.length;
    const results: { to: string; crc: number }[] = [];
    for (const [i, p] of swarm.peers.entries()) {
      const to = i === n - 1 ? nodePeer.peerId : swarm.peers[i + 1]!.peerId;
      try {
        results.push({ to, ...(await p.call<{ crc: number; ms: number }>('sendTensor', to, { bytes: 16 * MiB, seed: 1000 + i, tensorId: 10 + i })) });
      } catch (e) {
        const diag = await Promise.all(swarm.peers.map(async (q) => ({ peer: q.index, frameErrors: (await info(q)).frameErrors, direct: (await info(q)).direct.length })));
        throw new Error(`${(e as Error).message}; peers: ${JSON.stringify(diag)}`);
      }
    }
    const fromNode = (async () => {
      const data = seededBytes(16 * MiB, 999);
      const t: WireTensor = { jobId: 1, step: 0, tensorId: 99, codec: 'none', dtype: 'u8', shape: [data.length], data };
      await nodePeer.sendTensor(swarm.peers[0]!.peerId, t);
      return { to: swarm.peers[0]!.peerId, crc: crc32(data) };
    })();
    results.push(await fromNode);
    for (const r of results) {
      const rx = r.to === nodePeer.peerId ? nodeReceived : await swarm.peers.find((p) => p.peerId === r.to)!.call<ReceivedRecord[]>('received');
      const hit = rx.find((x) => x.crc === r.crc && x.bytes === 16 * MiB);
      expect(hit, `16 MiB tensor to ${r.to} with CRC ${r.crc}`).toBeDefined();
    }
  });

  it('rejects malformed, truncated, oversized and wrong-version frames with named errors and keeps working', async () => {
    const target = swarm.peers[0]!;
    const t: WireTensor = { jobId: 3, step: 1, tensorId: 7, codec: 'none', dtype: 'f32', shape: [256], data: seededBytes(1024, 42) };
    const good = () => [...encodeTensorFrames(t)][0]!;
    const wrongVersion = good();
    wrongVersion[4] = FRAME_VERSION + 1;
    const badCrc = good();
    badCrc[headerBytes(1) + 5]! ^= 0xff;
    // A header announcing a chunk above the receiver's limit (valid header CRC).
    const big = NET_DEFAULTS.maxChunkBytes + 1;
    const oversized = encodeFrame({ ...t, shape: [big], dtype: 'u8', chunkIndex: 0, chunkCount: 1, totalLength: big }, new Uint8Array(big));
    const garbage = seededBytes(3000, 7);
    const cases: [string, Uint8Array][] = [
      ['FrameVersionError', wrongVersion],
      ['FrameTruncatedError', good().subarray(0, 30)],
      ['FrameTooLargeError', oversized],
      ['FrameChecksumError', badCrc],
      ['FrameMagicError', garbage],
    ];
    // Each case goes on its own fresh stream; a stream that the loaded machine fails to deliver
    // (open or send error, seen about once in a few runs) is sent again, so what is tested is
    // the receiver's verdict on every case, not the delivery of one attempt.
    const sendMissing = async () => {
      const names = (await info(target)).frameErrors.map((e) => e.name);
      const missing = cases.filter(([name]) => !names.includes(name));
      for (const [, bytes] of missing) await sendRawFromNode(target.peerId, bytes).catch(() => {});
      return missing.map(([name]) => name);
    };
    await sendMissing();
    let lastSend = Date.now();
    let missing: string[] = [];
    await until('the browser peer to reject every malformed stream', 30_000, async () => {
      const names = (await info(target)).frameErrors.map((e) => e.name);
      missing = cases.filter(([name]) => !names.includes(name)).map(([name]) => name);
      if (missing.length && Date.now() - lastSend > 5000) {
        lastSend = Date.now();
        await sendMissing();
      }
      return missing.length === 0;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; never rejected: ${missing.join(', ')}`);
    });
    const i = await info(target);
    for (const [name] of cases) expect(i.stats.frameErrors[name], name).toBeGreaterThanOrEqual(1);
    // ...and the same peer still takes a valid tensor from the same sender.
    await nodePeer.sendTensor(target.peerId, t);
    const rx = await target.call<ReceivedRecord[]>('received');
    expect(rx.some((r) => r.tensorId === 7 && r.crc === crc32(t.data))).toBe(true);
    // The other direction: a browser sends garbage to the Node peer, which also survives.
    await swarm.peers[1]!.call('sendRaw', nodePeer.peerId, [...seededBytes(500, 3)]);
    await until('the Node peer to count the bad stream', 10_000, () => (nodePeer.stats.frameErrors.FrameMagicError ?? 0) >= 1);
    const again = await swarm.peers[1]!.call<{ crc: number }>('sendTensor', nodePeer.peerId, { bytes: MiB, seed: 5, tensorId: 55 });
    expect(nodeReceived.some((r) => r.tensorId === 55 && r.crc === again.crc)).toBe(true);
  });

  it('probes links (RTT, throughput) and shapes a link to emulate a WAN', async () => {
    const [a, b] = swarm.peers as [SwarmPeer, SwarmPeer];
    const plain = await a.call<{ rttMs: number; mibPerS: number }>('probeLink', b.peerId, MiB);
    expect(plain.rttMs).toBeGreaterThan(0);
    expect(plain.mibPerS).toBeGreaterThan(0);
    await a.call('setLinkShape', b.peerId, { bytesPerSecond: 2 * MiB, burstBytes: 64 * 1024, delayMs: 150 });
    const shaped = await a.call<{ rttMs: number; mibPerS: number }>('probeLink', b.peerId, MiB);
    await a.call('setLinkShape', b.peerId, null);
    expect(shaped.rttMs).toBeGreaterThanOrEqual(150);
    // The throughput probe times first frame -> ack (the delay is in the RTT). The first 64 KiB
    // pass on the burst allowance, the rest at 2 MiB/s: at most rate * total / (total - burst).
    const ceiling = 2 * (MiB / (MiB - 64 * 1024));
    expect(shaped.mibPerS).toBeLessThanOrEqual(ceiling * 1.01);
    expect(shaped.mibPerS).toBeGreaterThan(0.5);
  });

  it('keeps direct links and membership when the relay stops', async () => {
    await swarm.waitForMesh(60_000); // links that dropped earlier were re-dialled through the relay
    await relay.stop();
    // Longer than the leave timeout: a peer whose heartbeats went only through the relay would now be gone.
    await sleep(NET_DEFAULTS.leaveTimeoutMs + 2 * NET_DEFAULTS.heartbeatIntervalMs);
    const [, b, c] = swarm.peers as [SwarmPeer, SwarmPeer, SwarmPeer];
    const r = await b.call<{ crc: number }>('sendTensor', c.peerId, { bytes: 4 * MiB, seed: 77, tensorId: 77 });
    expect((await c.call<ReceivedRecord[]>('received')).some((x) => x.tensorId === 77 && x.crc === r.crc)).toBe(true);
    for (const p of swarm.peers) {
      const i = await info(p);
      expect(i.direct.length, `peer ${p.index} direct links`).toBe(BROWSER_PEERS);
      expect(i.leaves, `peer ${p.index} saw false leaves`).toEqual([]);
    }
    expect(nodeLeaves).toEqual([]);
  });

  it('drops a peer that stops at once: it announces its leave', async () => {
    const leaving = swarm.peers[BROWSER_PEERS - 1]!;
    const stoppedAt = Date.now();
    await leaving.call('stop'); // SwarmNode.stop(): a leave line on its heartbeat streams + gossip
    // The announced leave arrives in a round trip; the timeout path would need leaveTimeoutMs.
    const bound = 3000; // a loaded 2-core machine; far below NET_DEFAULTS.leaveTimeoutMs (6 s)
    const others = swarm.peers.slice(0, -1);
    await until('every peer to drop the stopped peer', bound + 2000, async () => {
      const all = await Promise.all(others.map(info));
      return all.every((i) => i.leaves.some((l) => l.peerId === leaving.peerId)) && nodeLeaves.some((l) => l.peerId === leaving.peerId);
    });
    for (const p of others) {
      const l = (await info(p)).leaves.find((x) => x.peerId === leaving.peerId)!;
      expect(l.reason, `peer ${p.index}`).toBe('announced');
      expect(l.at - stoppedAt, `peer ${p.index}`).toBeLessThanOrEqual(bound);
    }
    const nl = nodeLeaves.find((x) => x.peerId === leaving.peerId)!;
    expect(nl.reason).toBe('announced');
    expect(nl.at - stoppedAt).toBeLessThanOrEqual(bound);
  });

  it('detects a peer that vanishes without a word (crashed tab) within the documented timeout', async () => {
    const leaving = swarm.peers[BROWSER_PEERS - 2]!;
    const stopped = swarm.peers[BROWSER_PEERS - 1]!;
    const others = swarm.peers.slice(0, -2);
    // Crash the renderer: no unload handler runs, nothing is announced, heartbeats just stop.
    const cdp = await leaving.context.newCDPSession(leaving.page);
    crashedIndex = leaving.index;
    const closedAt = Date.now();
    void cdp.send('Page.crash').catch(() => {}); // never answers: the target is gone
    const bound = NET_DEFAULTS.leaveTimeoutMs + NET_DEFAULTS.heartbeatIntervalMs;
    const slack = 1500; // sweep period + a loaded 2-core machine
    await until('every peer to notice the leave', bound + slack + 2000, async () => {
      const all = await Promise.all(others.map(info));
      return all.every((i) => i.leaves.some((l) => l.peerId === leaving.peerId)) && nodeLeaves.some((l) => l.peerId === leaving.peerId);
    });
    for (const p of others) {
      const l = (await info(p)).leaves.find((x) => x.peerId === leaving.peerId)!;
      expect(l.reason, `peer ${p.index}`).toBe('timeout');
      expect(l.at - closedAt, `peer ${p.index}`).toBeLessThanOrEqual(bound + slack);
    }
    const nl = nodeLeaves.find((x) => x.peerId === leaving.peerId)!;
    expect(nl.reason).toBe('timeout');
    expect(nl.at - closedAt).toBeLessThanOrEqual(bound + slack);
    // Remaining peers do not report each other as gone.
    const i0 = await info(swarm.peers[0]!);
    expect(i0.leaves.map((l) => l.peerId).sort()).toEqual([stopped.peerId, leaving.peerId].sort());
  });

  it('leaves no uncaught page errors', () => {
    for (const p of swarm.peers) {
      // The renderer crashed on purpose by the leave test reports that crash, and nothing else.
      const crash = `pageerror: renderer of peer ${p.index} crashed`;
      const errors = p.problems.errors.filter((e) => e.startsWith('pageerror') && !(p.index === crashedIndex && e === crash));
      expect(errors, `peer ${p.index}`).toEqual([]);
    }
  });
});
