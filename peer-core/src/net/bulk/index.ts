/**
 * The simple-peer bulk channel: a second data path for tensors between two peers that share a
 * direct libp2p WebRTC connection. Its offer/answer go over a libp2p stream of that connection
 * (BULK_SIGNAL_PROTOCOL); tensors then travel on simple-peer's own RTCDataChannel as one frame
 * of frame.ts per message, with backpressure on bufferedAmount and the same ack as streams.
 *
 * BulkService keeps at most one sending channel per peer. Either side may open one; an inbound
 * channel is adopted for sending when this side has none, and the side that is not the pair's
 * dialer first waits `adoptWaitMs` for the dialer's channel, so a pair normally shares one
 * extra RTCPeerConnection. A channel that closes (the peer vanished, a bad message) is
 * forgotten and the next send opens a new one; closePeer() tears a peer's channels down when
 * its libp2p connection closes.
 *
 * What it is not: the choice between this channel and libp2p streams (SwarmNode does that).
 */
import type { Connection, Stream } from '@libp2p/interface';
import type { WireTensor } from '../frame.ts';
import type { SendResult } from '../stream.ts';
import type { BulkChannel, BulkSendOptions } from './channel.ts';
import { BULK_DEFAULTS, BULK_SIGNAL_PROTOCOL } from './constants.ts';
import { BulkChannelClosedError } from './errors.ts';
import { type OpenedBulk, openSimplePeerBulk, type SimplePeerBulkInit } from './simple-peer.ts';

export * from './channel.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './simple-peer.ts';
export * from './wire.ts';

/** Which data path carries bulk tensors between two directly connected peers. */
export type BulkChannelKind = 'simple-peer' | 'libp2p';

export interface BulkServiceInit extends Omit<SimplePeerBulkInit, 'onTensor' | 'onError'> {
  /** Wait for the dialer's channel before opening one (ms); default BULK_DEFAULTS.adoptWaitMs. */
  adoptWaitMs?: number;
  /** Every tensor received on any bulk channel. */
  onTensor(t: WireTensor, from: string): void;
  /** A bad message on a channel (it closes) or a failed open. */
  onError?(peerId: string, e: Error): void;
}

export interface BulkServiceStats {
  opened: number;
  accepted: number;
  closed: number;
  /** Offer/answer-to-open time of each channel this side opened (ms). */
  setupMs: number[];
}

export class BulkService {
  readonly stats: BulkServiceStats = { opened: 0, accepted: 0, closed: 0, setupMs: [] };
  private readonly sending = new Map<string, BulkChannel>();
  private readonly opening = new Map<string, Promise<BulkChannel>>();
  private readonly all = new Map<string, Set<BulkChannel>>();
  private readonly inboundWaiters = new Map<string, Set<() => void>>();
  private stopped = false;

  constructor(private readonly init: BulkServiceInit) {}

  /** Open channels to `peerId` (both directions' channels, for inspection). */
  channels(peerId: string): BulkChannel[] {
    return [...(this.all.get(peerId) ?? [])];
  }

  /** Serve an inbound BULK_SIGNAL_PROTOCOL stream from `peerId` (register it with libp2p). */
  async accept(stream: Stream, peerId: string): Promise<void> {
    if (this.stopped) {
      stream.abort(new BulkChannelClosedError('bulk service stopped'));
      return;
    }
    try {
      const o = await openSimplePeerBulk(stream, false, this.channelInit(peerId));
      this.stats.accepted++;
      this.track(peerId, o);
      if (!this.sending.has(peerId) && !o.channel.closed) this.sending.set(peerId, o.channel);
      for (const w of this.inboundWaiters.get(peerId) ?? []) w();
    } catch (e) {
      this.init.onError?.(peerId, e as Error);
    }
  }

  /**
   * The channel to send to `peerId` on: the current one, an adopted inbound one, or a new one
   * opened on `conn`. `dialer`: this side dials the pair (it opens at once; the other side
   * first waits for the dialer's channel).
   */
  channelFor(peerId: string, conn: Connection, dialer: boolean): Promise<BulkChannel> {
    const have = this.sending.get(peerId);
    if (have && !have.closed) return Promise.resolve(have);
    let p = this.opening.get(peerId);
    if (!p) {
      p = this.open(peerId, conn, dialer).finally(() => this.opening.delete(peerId));
      this.opening.set(peerId, p);
    }
    return p;
  }

  /** Send one tensor to `peerId` on its bulk channel (opened on `conn` if needed). */
  async send(peerId: string, conn: Connection, dialer: boolean, t: WireTensor, opts: BulkSendOptions = {}): Promise<SendResult> {
    const ch = await this.channelFor(peerId, conn, dialer);
    return ch.send(t, opts);
  }

  /** Close every channel to `peerId` (its connection closed: pending sends fail). */
  closePeer(peerId: string, reason = 'the peer went away'): void {
    for (const ch of this.all.get(peerId) ?? []) ch.close(new BulkChannelClosedError(`bulk channel to ${peerId} closed: ${reason}`));
    this.all.delete(peerId);
    this.sending.delete(peerId);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.all.keys()]) this.closePeer(id, 'bulk service stopped');
  }

  private channelInit(peerId: string): SimplePeerBulkInit {
    const { onTensor, onError, adoptWaitMs: _adopt, ...rest } = this.init;
    return {
      ...rest,
      onTensor: (t) => onTensor(t, peerId),
      onError: (e) => onError?.(peerId, e),
    };
  }

  private async open(peerId: string, conn: Connection, dialer: boolean): Promise<BulkChannel> {
    if (this.stopped) throw new BulkChannelClosedError('bulk service stopped');
    if (!dialer) {
      const adopted = await this.waitForInbound(peerId, this.init.adoptWaitMs ?? BULK_DEFAULTS.adoptWaitMs);
      if (adopted) return adopted;
    }
    const timeout = AbortSignal.timeout(this.init.connectTimeoutMs ?? BULK_DEFAULTS.connectTimeoutMs);
    const stream = await conn.newStream(BULK_SIGNAL_PROTOCOL, { signal: timeout });
    const o = await openSimplePeerBulk(stream, true, this.channelInit(peerId));
    this.stats.opened++;
    this.stats.setupMs.push(o.setupMs);
    this.track(peerId, o);
    this.sending.set(peerId, o.channel);
    return o.channel;
  }

  private waitForInbound(peerId: string, ms: number): Promise<BulkChannel | undefined> {
    const now = this.sending.get(peerId);
    if (now && !now.closed) return Promise.resolve(now);
    return new Promise((resolve) => {
      let set = this.inboundWaiters.get(peerId);
      if (!set) this.inboundWaiters.set(peerId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        const ch = this.sending.get(peerId);
        resolve(ch && !ch.closed ? ch : undefined);
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  private track(peerId: string, o: OpenedBulk): void {
    let set = this.all.get(peerId);
    if (!set) this.all.set(peerId, (set = new Set()));
    set.add(o.channel);
    o.channel.onClose(() => {
      this.stats.closed++;
      set.delete(o.channel);
      if (this.sending.get(peerId) === o.channel) this.sending.delete(peerId);
    });
  }
}
