/**
 * The simple-peer bulk channel measured by the net benchmark: a second RTCDataChannel
 * connection between two peers that already share a direct libp2p connection. Offer/answer go
 * as newline-delimited JSON over a libp2p stream (`/swarmgrad/sp-signal/1.0.0`) on that
 * connection: no extra signalling server. Tensors travel as the same frames as on libp2p
 * streams (frame.ts), one frame per DataChannel message (<= 256 KiB), with backpressure on
 * `bufferedAmount` (HIGH <= 8 MiB: Chromium closes a channel whose buffer passes ~16 MiB), and
 * the same 16-byte ack.
 */
import SimplePeer from 'simple-peer';
import type { Connection, Stream } from '@libp2p/interface';
import {
  ACK_BYTES,
  ACK_MAGIC,
  decodeFrame,
  encodeAck,
  encodeTensorFrames,
  NET_DEFAULTS,
  Reassembler,
  type WireTensor,
} from '../../peer-core/src/net/index.ts';

export const SP_SIGNAL_PROTOCOL = '/swarmgrad/sp-signal/1.0.0';
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface SpChannelOptions {
  highBytes?: number;
  lowBytes?: number;
  chunkBytes?: number;
}

export class SimplePeerChannel {
  private readonly re = new Reassembler();
  private ackWaiter: ((ack: Uint8Array) => void) | undefined;
  readonly received: WireTensor[] = [];

  constructor(
    readonly sp: SimplePeer,
    readonly opts: SpChannelOptions = {},
  ) {
    const ch = sp._channel;
    ch.binaryType = 'arraybuffer';
    ch.addEventListener('message', (e: MessageEvent) => {
      const b = new Uint8Array(e.data as ArrayBuffer);
      if (b.length === ACK_BYTES && new DataView(b.buffer).getUint32(0, true) === ACK_MAGIC) {
        this.ackWaiter?.(b);
        return;
      }
      const t = this.re.add(decodeFrame(b));
      if (t) {
        this.received.push(t);
        ch.send(encodeAck(t.tensorId, t.data.length) as Uint8Array<ArrayBuffer>);
      }
    });
  }

  /** Send one tensor; resolves on the receiver's ack. */
  async send(t: WireTensor): Promise<{ ms: number; waits: number }> {
    const ch = this.sp._channel;
    const high = Math.min(this.opts.highBytes ?? 1024 * 1024, 8 * 1024 * 1024);
    ch.bufferedAmountLowThreshold = this.opts.lowBytes ?? 256 * 1024;
    const ack = new Promise<Uint8Array>((ok) => {
      this.ackWaiter = ok;
    });
    const t0 = performance.now();
    let waits = 0;
    for (const f of encodeTensorFrames(t, this.opts.chunkBytes ?? NET_DEFAULTS.chunkBytes)) {
      ch.send(f as Uint8Array<ArrayBuffer>);
      if (ch.bufferedAmount > high) {
        waits++;
        await new Promise<void>((ok) => ch.addEventListener('bufferedamountlow', () => ok(), { once: true }));
      }
    }
    await ack;
    return { ms: performance.now() - t0, waits };
  }
}

function wireSignalling(stream: Stream, sp: SimplePeer): void {
  sp.on('signal', (data) => {
    stream.send(enc.encode(`${JSON.stringify(data)}\n`));
  });
  void (async () => {
    let buf = '';
    for await (const chunk of stream) {
      buf += dec.decode(chunk instanceof Uint8Array ? chunk : chunk.subarray(), { stream: true });
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line) sp.signal(JSON.parse(line));
      }
    }
  })().catch(() => {});
}

function connected(sp: SimplePeer, stream: Stream): Promise<SimplePeer> {
  return new Promise((ok, fail) => {
    const to = setTimeout(() => fail(new Error('simple-peer connect timeout')), 20_000);
    sp.on('connect', () => {
      clearTimeout(to);
      setTimeout(() => void stream.close().catch(() => {}), 200);
      ok(sp);
    });
    sp.on('error', (e) => {
      clearTimeout(to);
      fail(e);
    });
  });
}

/** Initiator side: open the signalling stream on `conn` and connect. */
export async function connectSimplePeer(conn: Connection, opts: SpChannelOptions = {}): Promise<SimplePeerChannel> {
  const stream = await conn.newStream(SP_SIGNAL_PROTOCOL);
  const sp = new SimplePeer({ initiator: true, trickle: false, config: { iceServers: [] } });
  wireSignalling(stream, sp);
  return new SimplePeerChannel(await connected(sp, stream), opts);
}

/** Responder side: serve an inbound signalling stream. */
export async function acceptSimplePeer(stream: Stream, opts: SpChannelOptions = {}): Promise<SimplePeerChannel> {
  const sp = new SimplePeer({ initiator: false, trickle: false, config: { iceServers: [] } });
  wireSignalling(stream, sp);
  return new SimplePeerChannel(await connected(sp, stream), opts);
}
