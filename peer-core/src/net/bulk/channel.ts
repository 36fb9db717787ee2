/**
 * A tensor channel over a message wire (wire.ts): the bulk data path of simple-peer.
 *
 * Each DataChannel message is exactly one tensor frame of frame.ts (same header, CRC32s and
 * strict limits as on libp2p streams) or a 16-byte ack (stream.ts's format). The sender
 * queues frames while the wire's bufferedAmount is below highWaterBytes and otherwise waits
 * until it falls to lowWaterBytes (so the channel never runs dry), then waits for the ack.
 * Sends are serialized per channel (one tensor in flight, acks arrive in order), and a tensor
 * id may repeat on a channel (a new reassembler per tensor). No ready
 * marker is needed: the receiver listens from the moment the channel opens.
 *
 * Any bad message (FrameError, or an ack nobody waits for) closes the channel: pending sends
 * fail with BulkChannelClosedError (whose `cause` is the error), the error is reported through
 * `onError`, and the owner may open a new channel. When the wire closes (the peer vanished),
 * every pending and later send fails with BulkChannelClosedError.
 *
 * What it is not: signalling or WebRTC setup (simple-peer.ts), or per-peer channel management
 * (index.ts).
 */
import { ACK_BYTES, ACK_MAGIC } from '../constants.ts';
import { TensorAckError } from '../errors.ts';
import { type FrameLimits, decodeFrame, encodeTensorFrames, headerBytes, Reassembler, type WireTensor } from '../frame.ts';
import { MAX_NDIM } from '../constants.ts';
import type { LinkShaper } from '../shaper.ts';
import { encodeAck, type SendResult } from '../stream.ts';
import { BULK_DEFAULTS, BULK_MAX_MESSAGE_BYTES } from './constants.ts';
import { BulkChannelClosedError, BulkConfigError, BulkProtocolError } from './errors.ts';
import type { BulkWire } from './wire.ts';

export interface BulkChannelInit {
  chunkBytes?: number;
  highWaterBytes?: number;
  lowWaterBytes?: number;
  ackTimeoutMs?: number;
  /** Receiver limits (frame.ts defaults). */
  limits?: FrameLimits;
  /** Every tensor received on this channel (after its ack was queued). */
  onTensor?(t: WireTensor): void;
  /** A bad message from the peer (the channel closes after it). */
  onError?(e: Error): void;
}

export interface BulkSendOptions {
  shaper?: LinkShaper;
  signal?: AbortSignal;
}

export interface BulkChannelStats {
  tensorsIn: number;
  tensorsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Times the sender waited for the send buffer to drain. */
  waits: number;
}

interface AckWaiter {
  tensorId: number;
  length: number;
  resolve(): void;
  reject(e: Error): void;
}

export class BulkChannel {
  readonly stats: BulkChannelStats = { tensorsIn: 0, tensorsOut: 0, bytesIn: 0, bytesOut: 0, waits: 0 };
  readonly cfg: { chunkBytes: number; highWaterBytes: number; lowWaterBytes: number; ackTimeoutMs: number };
  private re: Reassembler;
  private ackWaiter: AckWaiter | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closeReason: Error | undefined;
  private scratch: Uint8Array | undefined;
  private readonly closeCbs: ((err?: Error) => void)[] = [];

  constructor(
    readonly wire: BulkWire,
    private readonly init: BulkChannelInit = {},
  ) {
    this.cfg = {
      chunkBytes: init.chunkBytes ?? BULK_DEFAULTS.chunkBytes,
      highWaterBytes: init.highWaterBytes ?? BULK_DEFAULTS.highWaterBytes,
      lowWaterBytes: init.lowWaterBytes ?? BULK_DEFAULTS.lowWaterBytes,
      ackTimeoutMs: init.ackTimeoutMs ?? BULK_DEFAULTS.ackTimeoutMs,
    };
    const { chunkBytes, highWaterBytes, lowWaterBytes } = this.cfg;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes + headerBytes(MAX_NDIM) > BULK_MAX_MESSAGE_BYTES) {
      throw new BulkConfigError(`chunkBytes ${chunkBytes}: a frame must fit one ${BULK_MAX_MESSAGE_BYTES}-byte DataChannel message`);
    }
    if (!(lowWaterBytes >= 0 && highWaterBytes > lowWaterBytes)) throw new BulkConfigError(`need 0 <= lowWaterBytes (${lowWaterBytes}) < highWaterBytes (${highWaterBytes})`);
    this.re = new Reassembler(init.limits);
    wire.onMessage((m) => this.onMessage(m));
    wire.onClose((err) => this.onWireClose(err));
  }

  get closed(): boolean {
    return this.wire.closed || this.closeReason !== undefined;
  }

  /** Called once when the channel closes (the peer vanished, a protocol error, or close()). */
  onClose(cb: (err?: Error) => void): void {
    if (this.closed) queueMicrotask(() => cb(this.closeReason));
    else this.closeCbs.push(cb);
  }

  /** Send one tensor; resolves on the receiver's ack. Sends are serialized. */
  send(t: WireTensor, opts: BulkSendOptions = {}): Promise<SendResult> {
    const run = this.tail.then(() => this.sendNow(t, opts));
    this.tail = run.catch(() => {});
    return run;
  }

  close(err?: Error): void {
    if (this.closeReason) return;
    this.closeReason = err ?? new BulkChannelClosedError('bulk channel closed');
    this.wire.close(err);
    this.failWaiter();
    for (const cb of this.closeCbs.splice(0)) cb(err);
  }

  private closedError(): BulkChannelClosedError {
    const r = this.closeReason;
    if (r instanceof BulkChannelClosedError) return r;
    return new BulkChannelClosedError(r ? `bulk channel closed: ${r.name}: ${r.message}` : 'bulk channel closed (the peer went away)', { cause: r });
  }

  private async sendNow(t: WireTensor, opts: BulkSendOptions): Promise<SendResult> {
    if (this.closed) throw this.closedError();
    opts.signal?.throwIfAborted();
    // One scratch buffer for every frame: the wire copies on send (BulkWire contract).
    this.scratch ??= new Uint8Array(this.cfg.chunkBytes + headerBytes(MAX_NDIM));
    const frames = encodeTensorFrames(t, this.cfg.chunkBytes, this.scratch); // validates t before anything is sent
    const ack = new Promise<void>((resolve, reject) => {
      this.ackWaiter = { tensorId: t.tensorId, length: t.data.length, resolve, reject };
    });
    ack.catch(() => {});
    const onAbort = () => this.failWaiter(opts.signal!.reason as Error);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await opts.shaper?.beforeMessage();
      const t0 = performance.now();
      let n = 0;
      let waits = 0;
      for (const f of frames) {
        if (this.closed) throw this.closedError();
        opts.signal?.throwIfAborted();
        if (opts.shaper) await opts.shaper.beforeBytes(f.length);
        this.wire.send(f);
        n++;
        if (this.wire.bufferedAmount > this.cfg.highWaterBytes) {
          waits++;
          await this.wire.waitBelow(this.cfg.lowWaterBytes);
        }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TensorAckError(`no ack for tensor ${t.tensorId} within ${this.cfg.ackTimeoutMs} ms`)), this.cfg.ackTimeoutMs);
      });
      try {
        await Promise.race([ack, timeout]);
      } finally {
        clearTimeout(timer);
      }
      this.stats.tensorsOut++;
      this.stats.bytesOut += t.data.length;
      this.stats.waits += waits;
      return { bytes: t.data.length, frames: n, ms: performance.now() - t0, drains: waits };
    } catch (e) {
      // A half-sent tensor leaves the receiver with a partial one: only a fresh channel is clean.
      if (!(e instanceof BulkChannelClosedError)) this.close(e as Error);
      throw e;
    } finally {
      this.ackWaiter = undefined;
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private failWaiter(e?: Error): void {
    const w = this.ackWaiter;
    this.ackWaiter = undefined;
    w?.reject(e ?? this.closedError());
  }

  private onMessage(m: Uint8Array): void {
    if (this.closed) return;
    try {
      if (m.length === ACK_BYTES && (m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24)) >>> 0 === ACK_MAGIC) {
        this.onAck(m);
        return;
      }
      const t = this.re.add(decodeFrame(m, this.init.limits));
      if (!t) return;
      // One tensor at a time on an ordered channel: a fresh reassembler per tensor, so the same
      // (job, step, tensor id) may come again later (a stream's reassembler lives for one
      // stream and rejects repeats; this channel lives as long as the connection).
      this.re = new Reassembler(this.init.limits);
      this.stats.tensorsIn++;
      this.stats.bytesIn += t.data.length;
      this.wire.send(encodeAck(t.tensorId, t.data.length));
      this.init.onTensor?.(t);
    } catch (e) {
      if (e instanceof BulkChannelClosedError) return;
      this.init.onError?.(e as Error);
      this.close(e as Error);
    }
  }

  private onAck(m: Uint8Array): void {
    const v = new DataView(m.buffer, m.byteOffset, ACK_BYTES);
    const w = this.ackWaiter;
    if (!w) throw new BulkProtocolError('ack with no tensor in flight');
    const id = v.getUint32(4, true);
    const len = v.getUint32(12, true);
    if (id !== w.tensorId || m[8] !== 0 || len !== w.length) {
      throw new BulkProtocolError(`ack for tensor ${id} status ${m[8]} length ${len}; in flight: tensor ${w.tensorId} of ${w.length} bytes`);
    }
    this.ackWaiter = undefined;
    w.resolve();
  }

  private onWireClose(err?: Error): void {
    if (!this.closeReason) this.closeReason = err ?? new BulkChannelClosedError('bulk channel closed (the peer went away)');
    this.failWaiter();
    for (const cb of this.closeCbs.splice(0)) cb(err);
  }
}
