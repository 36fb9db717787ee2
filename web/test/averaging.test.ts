import { describe, expect, it } from 'vitest';
import type { SwarmNode } from '@swarmgrad/peer-core';
import { JobLink, wireJobId } from '../src/lib/averaging.ts';

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
      expect(Number.isInteger(w) && w >= 0 && w < 0xfffff000).toBe(true);
      ids.add(w);
    }
    expect(ids.size).toBeGreaterThan(1990);
    expect(wireJobId('x/1')).toBe(wireJobId('x/1'));
  });
});
