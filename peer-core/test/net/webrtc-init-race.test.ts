/**
 * The @libp2p/webrtc 'init' channel race workaround (peer-core/src/net/webrtc-init-race.ts), on
 * a fake channel (an EventTarget with a readyState): the dialer's late `pEvent(channel, 'open')`
 * and `pEvent(channel, 'close')` resolve when the channel already opened and closed; without
 * the workaround they never would; a channel that never opened gets no 'open'; listeners added
 * in time are called once; other channels and a second install are left alone.
 */
import { describe, expect, it } from 'vitest';
import { type ChannelLike, installInitChannelRaceFix, replayLateChannelEvents } from '../../src/net/webrtc-init-race.ts';

class FakeChannel extends EventTarget implements ChannelLike {
  readyState = 'connecting';
  constructor(readonly label = 'init') {
    super();
  }
  set(state: string, event?: string) {
    this.readyState = state;
    if (event) this.dispatchEvent(new Event(event));
  }
}

/** What @libp2p/webrtc does: wait for one event through addEventListener (p-event). */
function waitFor(ch: EventTarget, type: string, ms = 100): Promise<'fired' | 'timeout'> {
  return new Promise((ok) => {
    const t = setTimeout(() => ok('timeout'), ms);
    ch.addEventListener(type, () => {
      clearTimeout(t);
      ok('fired');
    });
  });
}

describe('init channel race workaround', () => {
  it('without it, a dialer that looks after the remote closed the channel waits forever (the bug)', async () => {
    const ch = new FakeChannel();
    ch.set('open', 'open');
    ch.set('closed', 'close');
    expect(await waitFor(ch, 'open')).toBe('timeout');
  });

  it("replays 'open' and 'close' to listeners added after the channel opened and closed", async () => {
    const ch = new FakeChannel();
    replayLateChannelEvents(ch);
    ch.set('open', 'open');
    ch.set('closing');
    ch.set('closed', 'close');
    expect(await waitFor(ch, 'open')).toBe('fired');
    expect(await waitFor(ch, 'close')).toBe('fired');
  });

  it("gives no 'open' to a channel that never opened, and calls in-time listeners once", async () => {
    const never = new FakeChannel();
    replayLateChannelEvents(never);
    never.set('closed', 'close');
    expect(await waitFor(never, 'open')).toBe('timeout');

    const ch = new FakeChannel();
    replayLateChannelEvents(ch);
    let opens = 0;
    ch.addEventListener('open', () => opens++);
    ch.set('open', 'open');
    await new Promise((r) => setTimeout(r, 10));
    expect(opens).toBe(1);
    // still open: a late 'open' listener is not replayed (the event will not happen again, but
    // libp2p only waits for it while the channel is not open)
    let late = 0;
    ch.addEventListener('open', () => late++);
    await new Promise((r) => setTimeout(r, 10));
    expect(late).toBe(0);
  });

  it("patches createDataChannel for 'init' channels only, once", async () => {
    class FakePC {
      createDataChannel(label: string): FakeChannel {
        return new FakeChannel(label);
      }
    }
    expect(installInitChannelRaceFix(FakePC as never)).toBe(true);
    expect(installInitChannelRaceFix(FakePC as never)).toBe(true);
    const pc = new FakePC();
    const init = pc.createDataChannel('init');
    const other = pc.createDataChannel('swarmgrad-bulk');
    for (const ch of [init, other]) {
      ch.set('open', 'open');
      ch.set('closed', 'close');
    }
    expect(await waitFor(init, 'close')).toBe('fired');
    expect(await waitFor(other, 'close')).toBe('timeout');
    expect(installInitChannelRaceFix(undefined)).toBe(false);
  });
});
