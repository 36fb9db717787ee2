/**
 * The simple-peer bulk channel end to end: two headless Chromium peers connect directly through a
 * relay, the default data path (SwarmNode.sendTensor) is the bulk channel, a 16 MiB tensor moves
 * over it and its CRC32 matches the one computed here in Node from the same seed; when the
 * receiving page closes mid-transfer, the sender's pending send fails with
 * BulkChannelClosedError instead of hanging.
 *
 * Runs inside the hermetic network namespace of test/netns/run.sh (`npm run test:e2e`):
 * Chromium gathers no WebRTC candidates on loopback, and no traffic may touch a real interface.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchSwarm, type RunningSwarm, type SwarmPeer } from '@swarmgrad/peer-core/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../peer-core/src/net/index.ts';
import { freshSeed } from '../../peer-core/src/util/random.ts';
import { type RunningRelay, startRelay } from '../../relay/src/relay.ts';
import { type ReceivedRecord, seededBytes } from './pages/peer-api.ts';

const MiB = 1024 * 1024;
const inNetns = process.env.SWARMGRAD_NETNS === '1';
/** The net benchmark's page: the e2e peer API plus sends over a chosen data path. */
const page = fileURLToPath(new URL('../../bench/net/peer.page.ts', import.meta.url));

let relay: RunningRelay;
let swarm: RunningSwarm;

// Without the namespace Chromium would use the machine's real interface: refuse, with the reason.
describe.skipIf(!inNetns)('bulk channel e2e (needs the test/netns/run.sh namespace: run `npm run test:e2e`)', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-e2e-bulk-'));
    relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
    swarm = await launchSwarm({ relay: relay.http.url, peers: 2, page });
    await swarm.waitForMesh(90_000);
  });

  afterAll(async () => {
    await swarm?.close();
    await relay?.stop();
  });

  it('moves a 16 MiB tensor over the default channel (the simple-peer bulk channel) with a matching CRC32', async () => {
    const [a, b] = swarm.peers as [SwarmPeer, SwarmPeer];
    expect(await a.call('defaultChannel', b.peerId)).toBe('simple-peer');
    const seed = freshSeed();
    const want = crc32(seededBytes(16 * MiB, seed));
    const sent = await a.call<{ crc: number }>('sendTensor', b.peerId, { bytes: 16 * MiB, seed, tensorId: 77 });
    expect(sent.crc).toBe(want);
    const got = (await b.call<ReceivedRecord[]>('received')).filter((r) => r.tensorId === 77);
    expect(got).toEqual([expect.objectContaining({ from: a.peerId, bytes: 16 * MiB, crc: want })]);
    const bulk = await a.call<{ service: { opened: number; accepted: number }; fallbacks: number; errors: Record<string, string> }>('bulkStats');
    expect(bulk.fallbacks).toBe(0);
    expect(bulk.errors).toEqual({});
    const bulkB = await b.call<{ service: { opened: number; accepted: number } }>('bulkStats');
    // One RTCPeerConnection for the pair: the dialer opens, the other side adopts it.
    expect(bulk.service.opened + bulk.service.accepted, JSON.stringify({ a: bulk, b: bulkB, aDials: a.peerId < b.peerId })).toBe(1);
  });

  it('a receiver that vanishes mid-transfer fails the pending send with BulkChannelClosedError', async () => {
    const [a, b] = swarm.peers as [SwarmPeer, SwarmPeer];
    const pending = a.call<{ ok: boolean; name?: string; message?: string }>('trySendVia', b.peerId, { kind: 'simple-peer', bytes: 64 * MiB, seed: 5, tensorId: 78 });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await b.close();
    const r = await pending;
    expect(r).toEqual(expect.objectContaining({ ok: false, name: 'BulkChannelClosedError' }));
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
