/**
 * Membership (peer-core/src/net/membership.ts) in memory, on a fake clock: an announced leave
 * drops the member at once, with its reason and words, through the same callback as the
 * timeout; late messages of a departed peer do not bring it back within leaveTimeoutMs; the
 * timeout path still drops silent members, and only those.
 */
import { describe, expect, it } from 'vitest';
import { type LeaveDetail, Membership } from '../../src/net/membership.ts';

function setup(leaveTimeoutMs = 6000) {
  let now = 1_000_000;
  const joins: string[] = [];
  const leaves: (LeaveDetail & { at: number })[] = [];
  const m = new Membership<{ backend: string }>({
    leaveTimeoutMs,
    now: () => now,
    onJoin: (id) => joins.push(id),
    onLeave: (d) => leaves.push({ ...d, at: now }),
  });
  return { m, joins, leaves, advance: (ms: number) => (now += ms), now: () => now };
}

describe('Membership', () => {
  it('drops a member that announced its leave at once, through onLeave with the reason', () => {
    const { m, joins, leaves, advance, now } = setup();
    m.touch('a', { backend: 'webgpu' });
    m.touch('b');
    expect(joins).toEqual(['a', 'b']);
    advance(250);
    const t = now();
    expect(m.leave('a', 'stopped')).toBe(true);
    expect(leaves).toEqual([{ peerId: 'a', reason: 'announced', silentMs: 250, message: 'stopped', at: t }]);
    expect(m.has('a')).toBe(false);
    expect(m.values().map((x) => x.peerId)).toEqual(['b']);
    // a second announcement (direct stream and gossip both carry it) is not a second leave
    expect(m.leave('a', 'stopped')).toBe(false);
    expect(leaves).toHaveLength(1);
  });

  it('ignores late heartbeats and discovery of a departed peer for leaveTimeoutMs, then takes it back', () => {
    const { m, joins, leaves, advance } = setup(6000);
    m.touch('a');
    m.leave('a');
    advance(5999);
    expect(m.touch('a', { backend: 'late' })).toBe(false);
    expect(m.has('a')).toBe(false);
    expect(joins).toEqual(['a']);
    advance(1);
    expect(m.touch('a')).toBe(true); // a peer that restarted with the same key is a member again
    expect(joins).toEqual(['a', 'a']);
    expect(leaves.map((l) => l.reason)).toEqual(['announced']);
  });

  it('takes a departed peer back at once when it provably returns (rejoin: a new direct connection)', () => {
    const { m, advance } = setup();
    m.touch('a');
    m.leave('a');
    advance(100);
    m.rejoin('a');
    expect(m.touch('a')).toBe(true);
    expect(m.has('a')).toBe(true);
  });

  it('still drops silent members by timeout, reason "timeout", and only those', () => {
    const { m, leaves, advance } = setup(6000);
    m.touch('a');
    m.touch('b');
    advance(4000);
    m.touch('b');
    advance(2000);
    expect(m.sweep()).toEqual([]); // a is silent for exactly 6000 ms: not more than the timeout
    advance(1);
    const gone = m.sweep();
    expect(gone).toEqual([{ peerId: 'a', reason: 'timeout', silentMs: 6001 }]);
    expect(leaves).toEqual([{ peerId: 'a', reason: 'timeout', silentMs: 6001, at: expect.any(Number) }]);
    expect(m.values().map((x) => x.peerId)).toEqual(['b']);
    advance(4001);
    expect(m.sweep().map((d) => d.peerId)).toEqual(['b']);
    expect(m.size).toBe(0);
  });

  it('an announced leave is not reported again by the sweep', () => {
    const { m, leaves, advance } = setup(1000);
    m.touch('a');
    m.leave('a', 'page unload');
    advance(5000);
    expect(m.sweep()).toEqual([]);
    expect(leaves.map((l) => [l.peerId, l.reason, l.message])).toEqual([['a', 'announced', 'page unload']]);
  });
});
