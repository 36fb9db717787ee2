/**
 * WarmupScheduler (peer-core/src/net/direct.ts) in memory, on a fake clock: warm-ups wait while
 * the node is dialing and for the quiet period after a connection opened, run one at a time,
 * jump the queue when a send needs the link, start anyway after maxDelayMs, and dropped or
 * closed ones never run.
 */
import { describe, expect, it } from 'vitest';
import { WarmupScheduler } from '../../src/net/direct.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));
async function until(what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

function setup(opts: { quietMs?: number; maxDelayMs?: number } = {}) {
  let now = 0;
  let dialIdle = false;
  let running = 0;
  let maxRunning = 0;
  const finish = new Map<string, () => void>();
  const started: string[] = [];
  const s = new WarmupScheduler<{ open: boolean; id: string }>({
    dialIdle: () => dialIdle,
    alive: (c) => c.open,
    quietMs: opts.quietMs ?? 1000,
    maxDelayMs: opts.maxDelayMs ?? 20_000,
    now: () => now,
    pollMs: 1,
    run: (peerId) => {
      started.push(peerId);
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<void>((ok) =>
        finish.set(peerId, () => {
          running--;
          ok();
        }),
      );
    },
  });
  return {
    s,
    started,
    finish,
    maxRunning: () => maxRunning,
    setIdle: (v: boolean) => {
      dialIdle = v;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('WarmupScheduler', () => {
  it('waits while the node dials and for the quiet period, then runs one at a time in order', async () => {
    const t = setup();
    t.s.noteConnectionOpen();
    const pa = t.s.add('a', { open: true, id: 'a' });
    t.s.add('b', { open: true, id: 'b' });
    await tick();
    expect(t.started).toEqual([]); // dialing
    t.setIdle(true);
    await tick();
    expect(t.started).toEqual([]); // idle, but a connection opened 0 ms ago
    t.advance(999);
    await tick();
    expect(t.started).toEqual([]);
    t.advance(1);
    await until('a to start', () => t.started.length === 1);
    expect(t.started).toEqual(['a']);
    await tick();
    expect(t.started).toEqual(['a']); // one at a time
    t.finish.get('a')!();
    await pa;
    await until('b to start', () => t.started.length === 2);
    t.finish.get('b')!();
    expect(t.maxRunning()).toBe(1);
    expect(t.s.order).toEqual(['a', 'b']);
  });

  it('a send that needs the link runs its warm-up at once, ahead of the queue', async () => {
    const t = setup();
    t.s.add('a', { open: true, id: 'a' });
    const pb = t.s.add('b', { open: true, id: 'b' });
    await tick();
    expect(t.started).toEqual([]);
    t.s.urgent('b');
    await until('b to start', () => t.started.length === 1);
    expect(t.started).toEqual(['b']);
    t.finish.get('b')!();
    await pb;
    await tick();
    expect(t.started).toEqual(['b']); // a still waits for the dials
  });

  it('starts a warm-up after maxDelayMs even while the node keeps dialing', async () => {
    const t = setup({ maxDelayMs: 5000 });
    t.s.add('a', { open: true, id: 'a' });
    t.advance(4999);
    await tick();
    expect(t.started).toEqual([]);
    t.advance(1);
    await until('a to start', () => t.started.length === 1);
    t.finish.get('a')!();
  });

  it('never runs a dropped warm-up or one whose connection closed, and resolves their promises', async () => {
    const t = setup({ quietMs: 0 });
    const pa = t.s.add('a', { open: true, id: 'a' });
    const pb = t.s.add('b', { open: false, id: 'b' });
    t.s.drop('a');
    await pa;
    expect(t.s.pending('a')).toBeUndefined();
    t.setIdle(true);
    await pb;
    expect(t.started).toEqual([]);
    // stop() resolves what is still queued
    t.setIdle(false);
    const pc = t.s.add('c', { open: true, id: 'c' });
    t.s.stop();
    await pc;
    expect(t.started).toEqual([]);
  });

  it('a newer connection to the same peer replaces the queued one', async () => {
    const t = setup({ quietMs: 0 });
    const first = { open: true, id: 'old' };
    const p1 = t.s.add('a', first);
    const p2 = t.s.add('a', { open: true, id: 'new' });
    await p1; // replaced: resolved without running
    t.setIdle(true);
    await until('a to start', () => t.started.length === 1);
    t.finish.get('a')!();
    await p2;
    expect(t.s.order).toEqual(['a']);
  });
});
