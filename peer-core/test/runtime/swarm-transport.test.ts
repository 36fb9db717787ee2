/**
 * SwarmTransport's job roster over two fake SwarmNodes wired to each other (tensors delivered at
 * once, heartbeats only when the test says so): a peer that stops training tells the peers it
 * trains with on the data path, so they drop it at once without waiting for its heartbeat; a
 * newer heartbeat state (a resume) wins over an older job-state frame and an older frame never
 * undoes a newer one; malformed job-state frames are rejected and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/gossip/frame.ts';
import type { MembershipEvent } from '../../src/gossip/transport.ts';
import type { CapabilityRecord } from '../../src/net/heartbeats.ts';
import type { WireTensor } from '../../src/net/frame.ts';
import type { SwarmNode } from '../../src/net/swarm-node.ts';
import { CAP_JOB_STATE } from '../../src/runtime/constants.ts';
import { SwarmTransport, wireJobId } from '../../src/runtime/transport.ts';

type Handler = (t: WireTensor, from: string) => void;

/** The part of SwarmNode that SwarmTransport uses. */
class FakeNode extends EventTarget {
  readonly init = { capabilities: { backend: 'cpu' } as CapabilityRecord, relay: '/ip4/127.0.0.1/tcp/1/ws' };
  readonly cfg = { chunkBytes: 64 * 1024 };
  caps: CapabilityRecord = { backend: 'cpu' };
  /** What this node last heard in each member's heartbeat. */
  readonly heard = new Map<string, CapabilityRecord>();
  readonly handlers = new Set<Handler>();
  other!: FakeNode;
  constructor(readonly peerId: string) {
    super();
  }
  setCapabilities(c: CapabilityRecord): void {
    this.caps = c;
  }
  peers() {
    return [...this.heard].map(([peerId, capabilities]) => ({ peerId, lastSeen: 0, capabilities, direct: true }));
  }
  onTensor(h: Handler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  sendTensor(to: string, t: WireTensor): Promise<{ ms: number }> {
    if (to === this.other.peerId) for (const h of this.other.handlers) h(t, this.peerId);
    return Promise.resolve({ ms: 0 });
  }
  /** Deliver this node's current capability record to the other one (one heartbeat). */
  beat(): void {
    this.other.heard.set(this.peerId, { ...this.caps });
  }
}

function pair() {
  const a = new FakeNode('A');
  const b = new FakeNode('B');
  a.other = b;
  b.other = a;
  const ta = new SwarmTransport({ node: a as unknown as SwarmNode, jobId: 'job-1', rosterPollMs: 60_000 });
  const tb = new SwarmTransport({ node: b as unknown as SwarmNode, jobId: 'job-1', rosterPollMs: 60_000 });
  const events: MembershipEvent[] = [];
  tb.onMembership((e) => events.push(e));
  ta.setState('training');
  tb.setState('training');
  a.beat();
  b.beat();
  ta.refresh();
  tb.refresh();
  return { a, b, ta, tb, events, close: () => {
      ta.close();
      tb.close();
    } };
}

describe('SwarmTransport job states', () => {
  it('a peer that finishes is dropped at once by the peers it trains with, before its heartbeat says so', () => {
    const { a, b, ta, tb, events, close } = pair();
    expect(tb.members().sort()).toEqual(['A', 'B']);
    ta.setState('done');
    // B has not heard A's heartbeat since: it still says 'training' there.
    expect(b.heard.get('A')?.[CAP_JOB_STATE]).toBe('training');
    expect(tb.members()).toEqual(['B']);
    expect(events).toContainEqual({ type: 'leave', peer: 'A' });
    // The frame is counted like every gossip byte.
    expect(ta.ledger.total({ dir: 'sent', kind: 'job-state' }).bytes).toBeGreaterThan(0);
    // A later heartbeat that says 'done' agrees; nothing changes.
    a.beat();
    tb.refresh();
    expect(tb.members()).toEqual(['B']);
    close();
  });

  it('a resume (newer state in the heartbeat) brings the peer back; an older frame never undoes a newer state', () => {
    const { a, b, ta, tb, close } = pair();
    ta.setState('paused');
    expect(tb.members()).toEqual(['B']);
    // A heartbeat from before the pause (older sequence number) arrives late: A stays out.
    b.heard.set('A', { ...b.heard.get('A')!, [CAP_JOB_STATE]: 'training' });
    tb.refresh();
    expect(tb.members()).toEqual(['B']);
    ta.setState('training');
    a.beat();
    tb.refresh();
    expect(tb.members().sort()).toEqual(['A', 'B']);
    // A replayed 'paused' frame with the old sequence number is ignored.
    const stale = encodeFrame({ kind: 'job-state', step: 1, tensor: '', flags: 0, body: new Uint8Array([2]) });
    for (const h of b.handlers) h({ jobId: wireJobId('job-1'), step: 1, tensorId: 0, codec: 'none', dtype: 'u8', shape: [stale.length], data: stale }, 'A');
    expect(tb.members().sort()).toEqual(['A', 'B']);
    close();
  });

  it('rejects malformed job-state frames and keeps the peer', () => {
    const { b, tb, close } = pair();
    const before = tb.mailbox.stats.rejectedFrames;
    for (const body of [new Uint8Array([]), new Uint8Array([9]), new Uint8Array([3, 3])]) {
      const f = encodeFrame({ kind: 'job-state', step: 99, tensor: '', flags: 0, body });
      for (const h of b.handlers) h({ jobId: wireJobId('job-1'), step: 99, tensorId: 0, codec: 'none', dtype: 'u8', shape: [f.length], data: f }, 'A');
    }
    expect(tb.mailbox.stats.rejectedFrames - before).toBe(3);
    expect(tb.members().sort()).toEqual(['A', 'B']);
    close();
  });
});
