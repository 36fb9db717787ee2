/**
 * A workaround for a race in @libp2p/webrtc 6's private-to-private dialer
 * (initiate-connection.js). The dialer creates a data channel labelled 'init', waits until the
 * RTCPeerConnection reports 'connected', then `if (channel.readyState !== 'open') await
 * pEvent(channel, 'open')`, closes it and `await pEvent(channel, 'close')`. The listener side
 * closes 'init' as soon as it arrives. When that close lands before the dialer's
 * 'connectionstatechange' to 'connected' is handled, the channel is already 'closed': the dialer
 * then waits for an 'open' (and a 'close') that already happened, until the dial times out.
 * Traced in the 8-page mesh (bench/net/mesh.ts --pc-trace): every "ICE hang" of sessions 3-4 was
 * this: the peer connection connected within 0.04-0.6 s, the init channel opened and closed
 * within 2 ms of it, and the dial sat until its timeout (docs/NETWORK.md).
 *
 * The fix: 'init' channels replay an event that already happened to a listener added late: an
 * 'open' listener added after the channel opened (and is no longer open), a 'close' listener
 * added after it closed. Other channels are untouched, and a channel that never opened gets no
 * 'open'.
 *
 * What it is not: a change to libp2p's protocol or to any other channel.
 */

/** The part of RTCDataChannel this needs (an EventTarget with a readyState). */
export interface ChannelLike extends EventTarget {
  readonly label: string;
  readonly readyState: string;
}

const PATCHED = Symbol.for('swarmgrad.initRaceFix');

/** Make `ch` replay 'open' and 'close' to listeners added after the event (see the header). */
export function replayLateChannelEvents(ch: ChannelLike): void {
  const c = ch as ChannelLike & { [PATCHED]?: true };
  if (c[PATCHED]) return;
  c[PATCHED] = true;
  let opened = ch.readyState === 'open';
  ch.addEventListener('open', () => {
    opened = true;
  });
  const add = ch.addEventListener.bind(ch);
  const replay = (type: string, listener: EventListenerOrEventListenerObject) => {
    setTimeout(() => {
      const ev = new Event(type);
      if (typeof listener === 'function') listener.call(ch, ev);
      else listener.handleEvent(ev);
    }, 0);
  };
  ch.addEventListener = (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions) => {
    add(type, listener, options);
    if (!listener) return;
    if (type === 'open' && opened && ch.readyState !== 'open') replay(type, listener);
    else if (type === 'close' && ch.readyState === 'closed') replay(type, listener);
  };
}

/** Patch RTCPeerConnection.prototype.createDataChannel (once) so that 'init' channels replay
 *  late events. A no-op where there is no RTCPeerConnection (Node: node-datachannel). */
export function installInitChannelRaceFix(pc: { prototype: { createDataChannel: (...a: never[]) => unknown } } | undefined = (globalThis as unknown as { RTCPeerConnection?: never }).RTCPeerConnection): boolean {
  const proto = pc?.prototype as ({ createDataChannel(label: string, init?: unknown): ChannelLike } & { [PATCHED]?: true }) | undefined;
  if (!proto || typeof proto.createDataChannel !== 'function') return false;
  if (proto[PATCHED]) return true;
  const orig = proto.createDataChannel;
  proto.createDataChannel = function (this: unknown, label: string, init?: unknown) {
    const ch = orig.call(this, label, init);
    if (label === 'init') replayLateChannelEvents(ch);
    return ch;
  };
  proto[PATCHED] = true;
  return true;
}
