import { describe, expect, it } from 'vitest';
import { runtime, type SwarmNode } from '@swarmgrad/peer-core';
import { defaultJobSpec, type JobSpecInput } from '@swarmgrad/peer-core/job';
import { randomNormal } from '@swarmgrad/peer-core/reference';
import { JobAveraging, JobLink, wireJobId } from '../src/lib/averaging.ts';

/** The parts of SwarmNode a JobLink uses. */
class FakeNode extends EventTarget {
  readonly peerId = 'me';
  members = ['a', 'b', 'c'];
  sent: Array<{ to: string; bytes: number }> = [];
  peers() {
    return this.members.map((peerId) => ({ peerId, lastSeen: 0, direct: true }));
  }
  async sendTensor(to: string, t: { data: Uint8Array }) {
    this.sent.push({ to, bytes: t.data.byteLength });
    return {};
  }
  onTensor() {
    return () => {};
  }
}

describe('JobLink: averaging membership is the job participants only', () => {
  it('lists admitted peers that are still swarm members, with join/leave events', () => {
    const node = new FakeNode();
    const link = new JobLink(node as unknown as SwarmNode);
    const events: string[] = [];
    link.addEventListener('peer:join', (e) => events.push(`join ${(e as CustomEvent).detail.peerId}`));
    link.addEventListener('peer:leave', (e) => events.push(`leave ${(e as CustomEvent).detail.peerId}`));
    expect(link.peers()).toEqual([]);
    link.admit('a');
    link.admit('a'); // once
    link.admit('me'); // never itself
    link.admit('z'); // admitted but not a swarm member (yet)
    expect(link.peers().map((p) => p.peerId)).toEqual(['a']);
    node.members.push('z');
    expect(link.peers().map((p) => p.peerId).sort()).toEqual(['a', 'z']);
    link.dismiss('a');
    node.dispatchEvent(new CustomEvent('peer:leave', { detail: { peerId: 'z' } }));
    node.dispatchEvent(new CustomEvent('peer:leave', { detail: { peerId: 'b' } })); // not a participant: no event
    expect(link.peers()).toEqual([]);
    expect(events).toEqual(['join a', 'join z', 'leave a', 'leave z']);
  });

  it('maps job ids to stable wire ids clear of the transport-reserved ones', () => {
    const ids = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const w = wireJobId(`12D3KooWhost/${i.toString(16).padStart(16, '0')}`);
      expect(Number.isInteger(w) && w >= 0 && w < 0xfffffff0).toBe(true);
      ids.add(w);
    }
    expect(ids.size).toBeGreaterThan(1990);
    expect(wireJobId('x/1')).toBe(wireJobId('x/1'));
    // the same id as a Node PeerRuntime peer of the job puts in its frames
    expect(wireJobId('12D3KooWhost/00ff')).toBe(runtime.wireJobId('12D3KooWhost/00ff'));
  });
});

type Frame = { jobId: number; step: number; tensorId: number; data: Uint8Array };

/** In-memory swarm of fake SwarmNodes: sendTensor delivers to the target's onTensor handlers on a later task. */
class Hub {
  readonly nodes = new Map<string, HubNode>();
  add(id: string): HubNode {
    const n = new HubNode(this, id);
    this.nodes.set(id, n);
    return n;
  }
}

class HubNode extends EventTarget {
  readonly handlers = new Set<(t: Frame, from: string) => void>();
  constructor(
    private readonly hub: Hub,
    readonly peerId: string,
  ) {
    super();
  }
  peers() {
    return [...this.hub.nodes.keys()].filter((p) => p !== this.peerId).map((peerId) => ({ peerId, lastSeen: 0, direct: true }));
  }
  async sendTensor(to: string, t: Frame) {
    const target = this.hub.nodes.get(to);
    if (!target) throw new Error(`no peer ${to}`);
    const copy = { jobId: t.jobId, step: t.step, tensorId: t.tensorId, data: t.data.slice() };
    setTimeout(() => {
      for (const h of target.handlers) h(copy, this.peerId);
    }, 1);
    return {};
  }
  onTensor(h: (t: Frame, from: string) => void) {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
}

function swarm(ids: string[], spec: JobSpecInput) {
  const hub = new Hub();
  const nodes = ids.map((id) => hub.add(id));
  const full = defaultJobSpec(spec);
  const avgs = nodes.map((n) => new JobAveraging(n as unknown as SwarmNode, 'host/job-1', full));
  // everyone has reported progress: all are participants
  for (const a of avgs) for (const id of ids) a.link.admit(id);
  return avgs;
}

const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0));

describe('JobAveraging: the job\'s algorithm over the swarm, not only AD-PSGD', () => {
  it('dpsgd on a full topology: one round gives every peer the Metropolis-Hastings weighted mean (here the plain mean)', async () => {
    const n = 257;
    const avgs = swarm(['p0', 'p1', 'p2'], { algorithm: { name: 'dpsgd', timeoutMs: 5000 }, topology: { kind: 'full' }, codec: { name: 'none' } });
    const xs = avgs.map((_, i) => randomNormal(n, 1000 + i));
    // closed form: full graph on 3 peers, every degree 2, w_ij = 1/(1+2) for all i, j
    const want = new Float32Array(n).map((_, k) => (xs[0]![k]! + xs[1]![k]! + xs[2]![k]!) / 3);
    const out = await Promise.all(avgs.map((a, i) => a.mix(0, xs[i]!)));
    for (const o of out) for (let k = 0; k < n; k++) expect(Math.abs(o[k]! - want[k]!)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want[k]!));
    for (const a of avgs) {
      expect(a.algorithm).toBe('dpsgd');
      expect(a.stats.mixed).toBe(2);
      expect(a.stats.missing).toBe(0);
      expect(a.stats.compressionRatio).toBeGreaterThan(0.9);
      a.stop();
    }
  });

  it('adpsgd + int8: the compression ratio counts only messages that carry a vector (not the bare requests)', async () => {
    const n = 4096;
    const avgs = swarm(['p0', 'p1'], { algorithm: { name: 'adpsgd', timeoutMs: 5000 }, topology: { kind: 'ring' }, codec: { name: 'int8' } });
    const xs = avgs.map((_, i) => randomNormal(n, 2000 + i));
    await Promise.all(avgs.map((a, i) => a.mix(0, xs[i]!)));
    for (const a of avgs) {
      expect(a.algorithm).toBe('adpsgd');
      // int8 with per-block scales: a bit under 4x smaller than fp32
      expect(a.stats.compressionRatio!).toBeGreaterThan(3);
      expect(a.stats.compressionRatio!).toBeLessThan(4);
      a.stop();
    }
  });

  it('choco + int8: a late joiner at local step 0 jumps to the swarm round, and the replicas agree more and more', async () => {
    const n = 1000;
    const hub = new Hub();
    const spec = defaultJobSpec({ algorithm: { name: 'choco', timeoutMs: 3000 }, topology: { kind: 'full' }, codec: { name: 'int8' } });
    const join = (id: string) => new JobAveraging(hub.add(id) as unknown as SwarmNode, 'host/job-1', spec);
    const [a, b] = [join('a'), join('b')];
    a.link.admit('b');
    b.link.admit('a');
    let xa = randomNormal(n, 7);
    let xb = randomNormal(n, 8);
    // a and b train together for a while: rounds 0..4
    for (let step = 0; step < 5; step++) [xa, xb] = await Promise.all([a.mix(step, xa), b.mix(step, xb)]);
    expect([a.nextRound, b.nextRound]).toEqual([5, 5]);
    // c joins at local step 0; it has seen a's progress report (round 5); a and b admit it
    const c = join('c');
    c.link.admit('a');
    c.link.admit('b');
    c.noteRound('a', a.nextRound!);
    a.link.admit('c');
    b.link.admit('c');
    const avgs = [a, b, c];
    let cur = [xa, xb, randomNormal(n, 9)];
    const spread = (ys: Float32Array[]) => Math.max(dist(ys[0]!, ys[1]!), dist(ys[1]!, ys[2]!), dist(ys[0]!, ys[2]!));
    const d0 = spread(cur);
    for (let r = 0; r < 12; r++) {
      const t0 = performance.now();
      cur = await Promise.all(avgs.map((p, i) => p.mix(i === 2 ? r : 5 + r, cur[i]!)));
      // aligned rounds: nobody waits for the 3 s timeout
      expect(performance.now() - t0).toBeLessThan(2500);
    }
    expect(avgs.map((p) => p.nextRound)).toEqual([17, 17, 17]);
    for (const p of avgs) expect(p.stats.missing).toBe(0);
    // CHOCO contracts the spread between replicas (int8 differences; public copies absorb the error)
    expect(spread(cur)).toBeLessThan(0.2 * d0);
    // int8 sends several times fewer bytes than fp32 vectors would (c's first rounds include full resyncs)
    for (const p of avgs) expect(p.stats.compressionRatio!).toBeGreaterThan(2);
    for (const p of avgs) p.stop();
  });

  it('a late joiner without any round information times out once, then aligns from the frames it receives', async () => {
    const hub = new Hub();
    const spec = defaultJobSpec({ algorithm: { name: 'dpsgd', timeoutMs: 400 }, topology: { kind: 'full' }, codec: { name: 'none' } });
    const join = (id: string) => new JobAveraging(hub.add(id) as unknown as SwarmNode, 'host/job-1', spec);
    const [a, b] = [join('a'), join('b')];
    a.link.admit('b');
    b.link.admit('a');
    let xs = [randomNormal(64, 1), randomNormal(64, 2)];
    for (let s = 0; s < 3; s++) xs = await Promise.all([a.mix(s, xs[0]!), b.mix(s, xs[1]!)]);
    const c = join('c');
    for (const [p, q] of [[c, 'a'], [c, 'b'], [a, 'c'], [b, 'c']] as const) p.link.admit(q);
    let cur = [...xs, randomNormal(64, 3)];
    for (let r = 0; r < 4; r++) cur = await Promise.all([a, b, c].map((p, i) => p.mix(i === 2 ? r : 3 + r, cur[i]!)));
    // one timed-out round on each side (c misses a and b; a and b miss c), then aligned
    expect(c.stats.missing).toBe(2);
    expect(a.stats.missing).toBe(1);
    expect(b.stats.missing).toBe(1);
    expect([a, b, c].map((p) => p.nextRound)).toEqual([7, 7, 7]);
    for (const p of [a, b, c]) p.stop();
  });

  it('adpsgd keeps its all-participants neighbour choice and reports no synchronous round', () => {
    const [a] = swarm(['x', 'y'], { algorithm: { name: 'adpsgd' }, codec: { name: 'none' } });
    expect(a!.algorithm).toBe('adpsgd');
    expect(a!.nextRound).toBeUndefined();
    a!.stop();
  });
});
