/**
 * Discovery in a swarm whose peers share one IP (issue #4: 6 of 16 browser peers never got a
 * direct link). 15 SwarmNodes in Node (autoConnect off: no WebRTC) join one relay from
 * 127.0.0.1, as the pages of one machine, or the peers behind one NAT, do. With gossipsub's
 * default IP colocation penalty the relay scored every one of them -5 * (15 - 10)^2 = -125,
 * below the graylist threshold, and dropped their discovery messages and heartbeats: no peer
 * learnt of any other. SwarmNode and the relay now run gossipsub without that penalty
 * (GOSSIP_SCORE_PARAMS); every peer must see the 14 others, and the relay must not score them
 * below zero.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRelay, startRelay } from '../../../relay/src/relay.ts';
import { GOSSIP_SCORE_PARAMS } from '../../src/net/constants.ts';
import { SwarmNode } from '../../src/net/swarm-node.ts';

const N = 15;
let relay: RunningRelay;
const nodes: SwarmNode[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-discovery-'));
  relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
  const addrs = relay.info().multiaddrs;
  for (let i = 0; i < N; i++) nodes.push(new SwarmNode({ relay: addrs, autoConnect: false, heartbeatIntervalMs: 500, leaveTimeoutMs: 20_000, discoveryIntervalMs: 500, capabilities: { backend: 'cpu', runtime: 'node' } }));
  // In waves, as the harness starts browser pages.
  for (let i = 0; i < N; i += 5) await Promise.all(nodes.slice(i, i + 5).map((n) => n.start()));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()));
  await relay?.stop();
});

describe('discovery with many peers on one IP', () => {
  it('switches the IP colocation penalty off (and nothing else)', () => {
    expect(GOSSIP_SCORE_PARAMS).toEqual({ IPColocationFactorWeight: 0 });
  });

  it(`every one of ${N} peers on 127.0.0.1 learns all the others through the relay`, async () => {
    const end = Date.now() + 60_000;
    let counts: number[] = [];
    while (Date.now() < end) {
      counts = nodes.map((n) => n.peers().length);
      if (counts.every((c) => c === N - 1)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(counts).toEqual(nodes.map(() => N - 1));
    const score = (relay.libp2p.services as unknown as { pubsub: { score: { score(id: string): number } } }).pubsub.score;
    for (const n of nodes) expect(score.score(n.peerId), n.peerId).toBeGreaterThanOrEqual(0);
  }, 90_000);
});
