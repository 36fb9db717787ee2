/**
 * AdaptiveDiscovery (peer-core/src/net/discovery.ts) over an in-memory pubsub bus, on fake
 * timers: the broadcast period follows `settled()` (fast while forming links, slow once every
 * member is direct), a peer seen for the first time is answered within replyDelayMs, a peer
 * already seen is not, and a forgotten (departed) one is answered again. Also the rule for
 * heartbeats on the gossip topic (membership.ts needsTopicHeartbeat).
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveDiscovery, discoveryDelay } from '../../src/net/discovery.ts';
import { needsTopicHeartbeat } from '../../src/net/membership.ts';

type Listener = (e: CustomEvent) => void;

/** A pubsub bus: what one member publishes reaches every other member's 'message' listeners. */
function bus() {
  const members: { listeners: Set<Listener>; id: string }[] = [];
  const published: string[] = [];
  return {
    published,
    join(id: string) {
      const me = { listeners: new Set<Listener>(), id };
      members.push(me);
      return {
        subscribe() {},
        unsubscribe() {},
        addEventListener: (_t: string, f: Listener) => me.listeners.add(f),
        removeEventListener: (_t: string, f: Listener) => me.listeners.delete(f),
        getSubscribers: () => members.filter((m) => m !== me).map((m) => m.id),
        publish: async (topic: string, data: Uint8Array) => {
          published.push(id);
          for (const m of members) if (m !== me) for (const f of m.listeners) f(new CustomEvent('message', { detail: { topic, data } }));
        },
      };
    },
  };
}

const log = Object.assign(() => {}, { error() {}, trace() {}, enabled: false });
const logger = { forComponent: () => log };

async function node(b: ReturnType<typeof bus>, settled: () => boolean) {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
  const components = { peerId, pubsub: b.join(peerId.toString()), addressManager: { getAddresses: () => [] }, logger };
  const d = new AdaptiveDiscovery(components as never, { fastIntervalMs: 1000, slowIntervalMs: 10_000, replyDelayMs: 400, settled });
  const found: string[] = [];
  d.addEventListener('peer', (e) => found.push(e.detail.id.toString()));
  return { d, id: peerId.toString(), found };
}

describe('AdaptiveDiscovery', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('discoveryDelay: the fast period until settled, then the slow one', () => {
    expect(discoveryDelay(false, { fastIntervalMs: 2000, slowIntervalMs: 20_000 })).toBe(2000);
    expect(discoveryDelay(true, { fastIntervalMs: 2000, slowIntervalMs: 20_000 })).toBe(20_000);
  });

  it('broadcasts at the fast period while unsettled and at the slow one once settled', async () => {
    const b = bus();
    let settled = false;
    const a = await node(b, () => settled);
    const other = await node(b, () => true);
    other.d.afterStart(); // someone to publish to
    a.d.afterStart();
    const start = a.d.broadcasts;
    expect(start).toBe(1); // at once on start
    await vi.advanceTimersByTimeAsync(5000);
    // 5 periods, plus one answer: `other` answered a's start broadcast, a new peer to `a` too
    expect(a.d.broadcasts - start).toBe(6);
    settled = true;
    await vi.advanceTimersByTimeAsync(1000); // the period already scheduled
    const n = a.d.broadcasts;
    await vi.advanceTimersByTimeAsync(9000);
    expect(a.d.broadcasts).toBe(n); // nothing before the slow period is up
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.d.broadcasts).toBe(n + 1);
    a.d.stop();
    other.d.stop();
  });

  it('answers a newly seen peer within replyDelayMs, a known one not again, a forgotten one again', async () => {
    const b = bus();
    const settledNode = await node(b, () => true);
    settledNode.d.afterStart();
    await vi.advanceTimersByTimeAsync(10); // its own start broadcast found nobody
    const before = settledNode.d.broadcasts;
    const joiner = await node(b, () => false);
    joiner.d.afterStart(); // broadcasts at once: the settled node sees a new peer
    expect(settledNode.found).toEqual([joiner.id]);
    await vi.advanceTimersByTimeAsync(400);
    expect(settledNode.d.broadcasts).toBe(before + 1); // answered well before its slow period
    expect(joiner.found).toContain(settledNode.id);
    // the joiner's next periodic broadcast is of a known peer: no second answer
    await vi.advanceTimersByTimeAsync(1000);
    expect(settledNode.found.length).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(settledNode.d.broadcasts).toBe(before + 1);
    // it left and came back: answered again
    settledNode.d.forget(joiner.id);
    await vi.advanceTimersByTimeAsync(1000 + 400);
    expect(settledNode.d.broadcasts).toBe(before + 2);
    settledNode.d.stop();
    joiner.d.stop();
    // stopped: no more broadcasts
    const end = settledNode.d.broadcasts;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(settledNode.d.broadcasts).toBe(end);
  });
});

describe('needsTopicHeartbeat', () => {
  it('is true only while some member has no direct link', () => {
    expect(needsTopicHeartbeat(['a', 'b'], new Set(['a', 'b', 'x']))).toBe(false);
    expect(needsTopicHeartbeat(['a', 'b'], new Set(['a']))).toBe(true);
    expect(needsTopicHeartbeat([], new Set())).toBe(false);
  });
});
