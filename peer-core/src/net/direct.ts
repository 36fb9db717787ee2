/**
 * The data paths of SwarmNode's direct connections, and when the warm-ups of new ones run.
 *
 * DirectPaths: which path a tensor to a directly connected peer takes (the simple-peer bulk
 * channel of bulk/ by default, or one libp2p stream per tensor), the fallback to a libp2p
 * stream when the bulk channel cannot be opened on a connection (counted and reported), and
 * the libp2p-stream sender. SwarmNode.channelFor / sendDirect / sendOn delegate here.
 *
 * WarmupScheduler: every new direct connection is warmed up with one transfer on the default
 * data path before it is reported ready: the first bulk transfer on a fresh WebRTC association
 * stalls (docs/NETWORK.md, "first-transfer stall"). A warm-up is CPU work (opening the bulk
 * channel's RTCPeerConnection, then 4 MiB through SCTP/DTLS on both ends), and warm-ups that
 * ran at once with the mesh's dials were most of the 8-peer mesh's dial time (median 18 s with
 * them, 1.6 s without). So WarmupScheduler runs them:
 *  - one at a time per node;
 *  - only while this node's dialing is idle (no attempt in flight, no queued target due) and no
 *    direct connection opened on this node in the last `quietMs` (inbound dials are invisible
 *    until they open; a burst of openings means the mesh is still forming);
 *  - at the latest `maxDelayMs` after the connection opened (a target that keeps failing must
 *    not keep the other links cold forever);
 *  - at once, ahead of the others, when a send needs the link (`urgent`: sendTensor waits for
 *    the warm-up of its peer).
 *
 * What it is not: the dial scheduler (dial.ts), the bulk channel itself (bulk/) or the stream
 * framing (stream.ts).
 */
import type { Connection } from '@libp2p/interface';
import { BULK_SIGNAL_PROTOCOL, type BulkChannelKind, type BulkService, DEFAULT_BULK_CHANNEL } from './bulk/index.ts';
import { TENSOR_PROTOCOL } from './constants.ts';
import type { WireTensor } from './frame.ts';
import type { LinkShaper } from './shaper.ts';
import { type ByteStream, type SendResult, sendTensorOverStream } from './stream.ts';
import { WebRTC } from '@multiformats/multiaddr-matcher';

/** Job ids reserved for the transport's own transfers (never delivered to onTensor, not counted). */
export const WARMUP_JOB_ID = 0xffffffff;
export const PROBE_JOB_ID = 0xfffffffe;

/** identify's protocol id: in a peer's protocol list once identify has answered. */
const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0';

/** A connection carried directly over WebRTC (not through a relay). The dialer's remoteAddr
 *  still contains `/p2p-circuit` (the signalling path), so substring checks are wrong. */
export function isDirectConnection(c: Connection): boolean {
  return WebRTC.exactMatch(c.remoteAddr) && c.limits === undefined;
}

/** Counters DirectPaths updates (a part of SwarmNodeStats). */
export interface DirectPathStats {
  tensorsOut: number;
  bytesOut: number;
  bulkFallbacks: number;
  bulkErrors: Record<string, string>;
}

export interface DirectPathsInit {
  /** Configured data path of direct connections; default DEFAULT_BULK_CHANNEL. */
  bulkChannel?: BulkChannelKind;
  /** The bulk service (undefined where this runtime offers no bulk channel, or before start). */
  bulk(): BulkService | undefined;
  chunkBytes: number;
  streamLowWaterBytes?: number;
  shaper(peerId: string): LinkShaper | undefined;
  /** Does this side dial the pair (it opens the bulk channel at once)? */
  isDialerFor(peerId: string): boolean;
  /** The remote peer's protocols as the peer store knows them (throws if unknown). */
  peerProtocols(conn: Connection): Promise<string[]>;
  stats: DirectPathStats;
  /** The bulk channel could not be opened on a connection that offers it (the send falls back). */
  onBulkError(peerId: string, e: Error): void;
}

export class DirectPaths {
  /** Connections on which the bulk channel failed to open: their sends use libp2p streams. */
  private readonly bulkFailed = new WeakSet<Connection>();

  constructor(private readonly init: DirectPathsInit) {}

  /** Which data path sends to `conn`'s peer take: the bulk channel on a direct connection
   *  (unless bulkChannel is 'libp2p' or it failed to open there), else a libp2p stream. */
  channelFor(conn: Connection): BulkChannelKind {
    const kind = this.init.bulkChannel ?? DEFAULT_BULK_CHANNEL;
    return kind === 'simple-peer' && this.init.bulk() && isDirectConnection(conn) && !this.bulkFailed.has(conn) ? 'simple-peer' : 'libp2p';
  }

  /** Send on `conn` over the configured data path (channelFor). A bulk channel that cannot be
   *  opened on this connection is recorded (stats.bulkFallbacks, onBulkError) and the tensor
   *  goes over a libp2p stream instead. */
  async sendDirect(conn: Connection, t: WireTensor, signal?: AbortSignal): Promise<SendResult> {
    const peerId = conn.remotePeer.toString();
    const bulk = this.init.bulk();
    if (this.channelFor(conn) === 'simple-peer' && bulk && !(await this.remoteOffersBulk(conn))) this.bulkFailed.add(conn);
    if (this.channelFor(conn) === 'simple-peer' && bulk) {
      let ch: Awaited<ReturnType<BulkService['channelFor']>>;
      try {
        ch = await bulk.channelFor(peerId, conn, this.init.isDialerFor(peerId));
      } catch (e) {
        if (signal?.aborted) throw e;
        this.bulkFailed.add(conn);
        this.init.stats.bulkFallbacks++;
        this.init.stats.bulkErrors[peerId] = `${(e as Error).name}: ${(e as Error).message}`;
        this.init.onBulkError(peerId, e as Error);
        return this.sendOn(conn, t, signal);
      }
      const r = await ch.send(t, { shaper: this.init.shaper(peerId), signal });
      this.count(t);
      return r;
    }
    return this.sendOn(conn, t, signal);
  }

  /** Send on a specific connection over a libp2p stream (benchmarks compare the direct and the
   *  relayed path, and the libp2p stream with the bulk channel). */
  async sendOn(conn: Connection, t: WireTensor, signal?: AbortSignal): Promise<SendResult> {
    const open = () => conn.newStream(TENSOR_PROTOCOL, { runOnLimitedConnection: true, signal: signal ?? AbortSignal.timeout(30_000) });
    // Opening a stream (a new data channel + protocol negotiation) can time out on a starved
    // peer; nothing of the tensor was sent yet, so one retry cannot deliver it twice.
    const stream = await open().catch((e: Error) => {
      if (signal?.aborted || conn.status !== 'open') throw e;
      return open();
    });
    const r = await sendTensorOverStream(stream as unknown as ByteStream, t, {
      chunkBytes: this.init.chunkBytes,
      lowWaterBytes: this.init.streamLowWaterBytes,
      shaper: this.init.shaper(conn.remotePeer.toString()),
      signal,
    });
    this.count(t);
    return r;
  }

  private count(t: WireTensor): void {
    if (t.jobId === WARMUP_JOB_ID || t.jobId === PROBE_JOB_ID) return;
    this.init.stats.tensorsOut++;
    this.init.stats.bytesOut += t.data.length;
  }

  /** False when identify says the peer does not offer the bulk channel (e.g. a Node peer);
   *  true when it does or identify has not answered yet. (Before identify the peer store lists
   *  only the protocols this side already negotiated with the peer, e.g. heartbeats.) */
  private async remoteOffersBulk(conn: Connection): Promise<boolean> {
    try {
      const protocols = await this.init.peerProtocols(conn);
      return !protocols.includes(IDENTIFY_PROTOCOL) || protocols.includes(BULK_SIGNAL_PROTOCOL);
    } catch {
      return true;
    }
  }
}

export interface WarmupSchedulerInit<C> {
  /** True when this node's dialing is idle: nothing in flight, no queued target due now. */
  dialIdle(): boolean;
  /** Run the warm-up of `conn` (to `peerId`); a rejection counts as done. */
  run(peerId: string, conn: C): Promise<void>;
  /** Is `conn` still worth warming up (open)? Skipped otherwise. Default: always. */
  alive?(conn: C): boolean;
  /** No direct connection opened on this node for this long before a warm-up starts (ms). */
  quietMs: number;
  /** A warm-up starts at the latest this long after its connection opened (ms). */
  maxDelayMs: number;
  /** Clock (ms); default performance.now. */
  now?(): number;
  /** Poll period while waiting for quiet (ms); default 50. */
  pollMs?: number;
}

interface Pending<C> {
  peerId: string;
  conn: C;
  addedAt: number;
  urgent: boolean;
  done: () => void;
}

export class WarmupScheduler<C> {
  /** Order in which warm-ups ran (peer ids), for tests and diagnostics. */
  readonly order: string[] = [];
  private readonly queue: Pending<C>[] = [];
  private readonly promises = new Map<string, Promise<void>>();
  private lastOpen = Number.NEGATIVE_INFINITY;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly init: WarmupSchedulerInit<C>) {}

  private now(): number {
    return this.init.now?.() ?? performance.now();
  }

  /** A direct connection opened on this node (either direction): the quiet period restarts. */
  noteConnectionOpen(): void {
    this.lastOpen = this.now();
  }

  /** Queue the warm-up of `conn`; resolves when it ran (or was dropped or skipped). A second
   *  add for the same peer replaces the first (a newer connection). */
  add(peerId: string, conn: C): Promise<void> {
    this.drop(peerId);
    let done!: () => void;
    const p = new Promise<void>((ok) => {
      done = ok;
    });
    this.queue.push({ peerId, conn, addedAt: this.now(), urgent: false, done });
    this.promises.set(peerId, p);
    this.kick();
    return p;
  }

  /** The warm-up of `peerId` if one is queued or running (undefined otherwise). */
  pending(peerId: string): Promise<void> | undefined {
    return this.promises.get(peerId);
  }

  /** A send waits for `peerId`: run its warm-up next, without waiting for quiet. */
  urgent(peerId: string): void {
    const p = this.queue.find((x) => x.peerId === peerId);
    if (!p) return;
    p.urgent = true;
    this.kick();
  }

  /** Forget a queued warm-up (its connection closed, the peer left): resolves its promise. */
  drop(peerId: string): void {
    const i = this.queue.findIndex((x) => x.peerId === peerId);
    if (i < 0) return;
    const [p] = this.queue.splice(i, 1);
    this.promises.delete(peerId);
    p!.done();
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.done();
    this.promises.clear();
    this.kick();
  }

  /** The entry that may start now, if any. */
  private next(): Pending<C> | undefined {
    const urgent = this.queue.find((x) => x.urgent);
    if (urgent) return urgent;
    const now = this.now();
    const overdue = this.queue.find((x) => now - x.addedAt >= this.init.maxDelayMs);
    if (overdue) return overdue;
    if (now - this.lastOpen < this.init.quietMs || !this.init.dialIdle()) return undefined;
    return this.queue[0];
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.queue.length) {
        const p = this.next();
        if (!p) {
          await new Promise<void>((ok) => {
            const t = setTimeout(ok, this.init.pollMs ?? 50);
            this.wake = () => {
              clearTimeout(t);
              ok();
            };
          });
          continue;
        }
        this.queue.splice(this.queue.indexOf(p), 1);
        try {
          if (this.init.alive?.(p.conn) ?? true) {
            this.order.push(p.peerId);
            await this.init.run(p.peerId, p.conn);
          }
        } catch {
          // a failed warm-up leaves the link cold, not broken: the send path reports real errors
        } finally {
          if (this.promises.get(p.peerId) && !this.queue.some((x) => x.peerId === p.peerId)) this.promises.delete(p.peerId);
          p.done();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
