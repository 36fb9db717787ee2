/**
 * The SwarmNode adapter: gossip frames travel as opaque u8 tensors over a TensorLink; D-PSGD
 * runs over it unchanged; membership events re-form the topology. A fake in-process link stands
 * in for SwarmNode (the real one is exercised by the networking tests); the type assertion
 * below keeps the adapter honest against SwarmNode's actual signatures.
 */
import { describe, expect, it } from 'vitest';
import { Dpsgd, type LinkTensor, SwarmGossipTransport, type TensorLink } from '../../src/gossip/index.ts';
import type { SwarmNode } from '../../src/net/index.ts';

// compile-time check: SwarmNode provides everything TensorLink needs
const _fits = (n: SwarmNode): TensorLink => n;
void _fits;

type Handler = (t: LinkTensor, from: string) => void;

class FakeLink extends EventTarget implements TensorLink {
  handlers = new Set<Handler>();
  sent = 0;
  constructor(
    readonly peerId: string,
    private readonly hub: Map<string, FakeLink>,
  ) {
    super();
    hub.set(peerId, this);
  }
  peers() {
    return [...this.hub.keys()].filter((p) => p !== this.peerId).map((peerId) => ({ peerId }));
  }
  async sendTensor(to: string, t: LinkTensor) {
    this.sent++;
    const dst = this.hub.get(to);
    if (!dst) throw new Error(`no peer ${to}`);
    queueMicrotask(() => {
      for (const h of dst.handlers) h({ ...t, data: t.data.slice() }, this.peerId);
    });
    return { bytes: t.data.byteLength };
  }
  onTensor(h: Handler) {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
}

describe('SwarmGossipTransport', () => {
  it('runs D-PSGD rounds over a tensor link and counts bytes both ways', async () => {
    const hub = new Map<string, FakeLink>();
    const links = ['a', 'b', 'c', 'd'].map((id) => new FakeLink(id, hub));
    const ts = links.map((link) => new SwarmGossipTransport({ link, jobId: 7 }));
    const avgs = ts.map((transport) => new Dpsgd({ transport, topology: 'ring', timeoutMs: 2000 }));
    const xs = [0, 1, 2, 3].map((i) => new Float32Array(16).fill(i));
    for (let t = 0; t < 30; t++) await Promise.all(avgs.map((a, i) => a.mix(xs[i], t)));
    for (const x of xs) for (const v of x) expect(Math.abs(v - 1.5)).toBeLessThan(1e-3);
    const sent = ts.reduce((s, t) => s + t.ledger.total({ dir: 'sent' }).bytes, 0);
    const recv = ts.reduce((s, t) => s + t.ledger.total({ dir: 'received' }).bytes, 0);
    expect(recv).toBe(sent);
    expect(ts[0].ledger.total({ dir: 'sent', kind: 'params' }).messages).toBe(60);
    for (const t of ts) t.close();
  });

  it('ignores other jobs and malformed frames, and forwards membership events', async () => {
    const hub = new Map<string, FakeLink>();
    const [a, b] = ['a', 'b'].map((id) => new FakeLink(id, hub));
    const ta = new SwarmGossipTransport({ link: a, jobId: 1 });
    for (const h of a.handlers) {
      h({ jobId: 2, step: 0, tensorId: 0, codec: 'none', dtype: 'u8', shape: [3], data: new Uint8Array(3) }, 'b');
      h({ jobId: 1, step: 0, tensorId: 0, codec: 'none', dtype: 'u8', shape: [3], data: new Uint8Array(3) }, 'b');
    }
    expect(ta.mailbox.stats.rejectedFrames).toBe(1);
    expect(ta.mailbox.stats.delivered).toBe(0);
    const events: string[] = [];
    ta.onMembership((e) => events.push(`${e.type}:${e.peer}`));
    a.dispatchEvent(new CustomEvent('peer:leave', { detail: { peerId: 'b' } }));
    expect(events).toEqual(['leave:b']);
    expect(ta.members()).toEqual(['a', 'b']);
    void b;
    ta.close();
  });
});
