/**
 * Opening a bulk channel with simple-peer on a pair of peers that already share a direct libp2p
 * connection: the offer/answer travel as newline-delimited JSON on a BULK_SIGNAL_PROTOCOL
 * stream of that connection (no signalling server, no trickle ICE: one offer line, one answer
 * line), then the signalling stream closes and tensors flow on simple-peer's RTCDataChannel
 * through a BulkChannel (channel.ts).
 *
 * simple-peer 9 is CommonJS written for Node (readable-stream 3 calls `process.nextTick`,
 * randombytes reads `global.crypto`): loadSimplePeer() installs those two globals where they
 * are missing, then imports it lazily, so pages that never open a bulk channel never load it.
 * In Node (no global RTCPeerConnection) pass `wrtc: 'node'` to use node-datachannel's polyfill
 * (nodeWrtc), the WebRTC engine @libp2p/webrtc runs on there; measured on this machine it took
 * ~13 s to open (ICE gathering without trickle) and was slower than a libp2p stream, so Node
 * peers do not offer the bulk channel by default (SwarmNode).
 *
 * What it is not: per-peer channel management (index.ts) or the framing (channel.ts).
 */
import type { Stream } from '@libp2p/interface';
import type SimplePeerCtor from 'simple-peer';
import { BulkChannel, type BulkChannelInit } from './channel.ts';
import { BULK_DEFAULTS } from './constants.ts';
import { BulkConnectError, BulkSignalError, BulkUnavailableError } from './errors.ts';
import { DataChannelWire } from './wire.ts';

type SimplePeer = InstanceType<typeof SimplePeerCtor>;

export interface SimplePeerBulkInit extends BulkChannelInit {
  connectTimeoutMs?: number;
  maxSignalBytes?: number;
  /** WebRTC implementation where there is no global RTCPeerConnection; 'node' loads
   *  node-datachannel's polyfill (nodeWrtc). Default: the global RTCPeerConnection. */
  wrtc?: unknown;
}

export interface OpenedBulk {
  channel: BulkChannel;
  /** The simple-peer instance (destroyed when the channel closes). */
  peer: SimplePeer;
  /** Offer/answer until the data channel is open (ms). */
  setupMs: number;
}

/** The part of a libp2p stream that signalling uses. */
type SignalStream = Pick<Stream, 'send' | 'close' | 'abort'> & AsyncIterable<Uint8Array | { subarray(): Uint8Array }>;

let ctor: Promise<typeof SimplePeerCtor> | undefined;

/** Import simple-peer once, after installing the Node globals it expects in a browser. */
export function loadSimplePeer(): Promise<typeof SimplePeerCtor> {
  const g = globalThis as { global?: unknown; process?: { nextTick?: unknown; env?: unknown } };
  g.global ??= globalThis;
  if (typeof g.process?.nextTick !== 'function') {
    g.process = {
      ...(g.process ?? {}),
      env: g.process?.env ?? {},
      nextTick: (fn: (...a: unknown[]) => void, ...args: unknown[]) => queueMicrotask(() => fn(...args)),
    };
  }
  ctor ??= import('simple-peer').then((m) => ((m as { default?: typeof SimplePeerCtor }).default ?? (m as unknown as typeof SimplePeerCtor)));
  return ctor;
}

const enc = new TextEncoder();

interface SdpMaker {
  createOffer(o?: RTCOfferOptions): Promise<RTCSessionDescriptionInit>;
  createAnswer(o?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit>;
}
type Wrtc = { RTCPeerConnection: new (c?: RTCConfiguration) => SdpMaker; [k: string]: unknown };

/**
 * WebRTC for Node: node-datachannel's polyfill (the engine @libp2p/webrtc already uses in Node),
 * with createOffer/createAnswer returning plain objects: simple-peer rewrites `desc.sdp`, which
 * the polyfill's RTCSessionDescription only has a getter for. The module name is not a literal
 * so that browser bundles do not try to include the native module.
 */
export async function nodeWrtc(): Promise<Wrtc> {
  const name = 'node-datachannel/polyfill';
  const w = (await import(/* @vite-ignore */ name)) as Wrtc;
  class PlainSdpPeerConnection extends w.RTCPeerConnection {
    override async createOffer(o?: RTCOfferOptions): Promise<RTCSessionDescriptionInit> {
      const d = await super.createOffer(o);
      return { type: d.type, sdp: d.sdp };
    }
    override async createAnswer(o?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit> {
      const d = await super.createAnswer(o);
      return { type: d.type, sdp: d.sdp };
    }
  }
  return { ...w, RTCPeerConnection: PlainSdpPeerConnection };
}

/** Can this runtime open a bulk channel (a global RTCPeerConnection, or `wrtc` given)? */
export function bulkAvailable(wrtc?: unknown): boolean {
  return typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function' || wrtc !== undefined;
}

/** Validate one signalling line: a JSON object `{type: 'offer'|'answer', sdp: string}`. */
export function parseSignalLine(line: string): { type: 'offer' | 'answer'; sdp: string } {
  let j: unknown;
  try {
    j = JSON.parse(line);
  } catch {
    throw new BulkSignalError('signalling line is not JSON');
  }
  const o = j as { type?: unknown; sdp?: unknown };
  if (typeof o !== 'object' || o === null || (o.type !== 'offer' && o.type !== 'answer') || typeof o.sdp !== 'string') {
    throw new BulkSignalError('signalling line is not an offer or answer with an sdp string');
  }
  return { type: o.type, sdp: o.sdp };
}

/** Read newline-delimited lines (each at most maxBytes) from a stream. */
async function* lines(stream: SignalStream, maxBytes: number): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = '';
  for await (const chunk of stream) {
    buf += dec.decode(chunk instanceof Uint8Array ? chunk : chunk.subarray(), { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.length > maxBytes) throw new BulkSignalError(`signalling line of ${line.length} bytes > ${maxBytes}`);
      yield line;
    }
    if (buf.length > maxBytes) throw new BulkSignalError(`signalling line of more than ${maxBytes} bytes`);
  }
}

/**
 * Run simple-peer over a signalling stream until its data channel is open. `initiator` sends
 * the offer. Throws BulkConnectError (timeout, simple-peer error), BulkSignalError (bad line)
 * or BulkUnavailableError (no WebRTC here).
 */
export async function openSimplePeerBulk(stream: SignalStream, initiator: boolean, init: SimplePeerBulkInit = {}): Promise<OpenedBulk> {
  const t0 = performance.now();
  const hasRtc = typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function';
  let wrtc = init.wrtc;
  if (wrtc === 'node') {
    try {
      wrtc = await nodeWrtc();
    } catch (e) {
      const err = new BulkUnavailableError(`node-datachannel/polyfill: ${(e as Error).message}`);
      stream.abort(err);
      throw err;
    }
  }
  if (!hasRtc && !wrtc) {
    const e = new BulkUnavailableError('no RTCPeerConnection in this runtime (pass `wrtc`, e.g. node-datachannel/polyfill)');
    stream.abort(e);
    throw e;
  }
  const SP = await loadSimplePeer();
  const peer = new SP({ initiator, trickle: false, config: { iceServers: [] }, channelName: 'swarmgrad-bulk', ...(wrtc ? { wrtc } : {}) });
  const maxSignal = init.maxSignalBytes ?? BULK_DEFAULTS.maxSignalBytes;
  const timeoutMs = init.connectTimeoutMs ?? BULK_DEFAULTS.connectTimeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new BulkConnectError(`bulk channel not open after ${timeoutMs} ms`)), timeoutMs);
      peer.on('signal', (data) => {
        try {
          stream.send(enc.encode(`${JSON.stringify(data)}\n`));
        } catch (e) {
          reject(new BulkConnectError(`signalling stream failed: ${(e as Error).message}`));
        }
      });
      peer.on('connect', () => resolve());
      peer.on('error', (e) => reject(new BulkConnectError(`simple-peer: ${e.message}`)));
      peer.on('close', () => reject(new BulkConnectError('simple-peer closed before it connected')));
      void (async () => {
        let n = 0;
        for await (const line of lines(stream, maxSignal)) {
          if (!line) continue;
          const s = parseSignalLine(line);
          if (s.type !== (initiator ? 'answer' : 'offer') || ++n > 1) throw new BulkSignalError(`unexpected ${s.type} on the ${initiator ? 'initiator' : 'responder'} side`);
          peer.signal(s);
        }
      })().catch((e: Error) => reject(e instanceof BulkSignalError ? e : new BulkConnectError(`signalling stream: ${e.message}`)));
    });
  } catch (e) {
    clearTimeout(timer);
    peer.destroy();
    stream.abort(e as Error);
    throw e;
  }
  clearTimeout(timer);
  // Both sides have their answer/offer; the stream is done (close flushes what is queued).
  void stream.close().catch(() => {});
  // Messages are read from the RTCDataChannel itself: simple-peer's own handler (which pushes
  // every message through its Node-style readable stream, where nothing reads it) is detached,
  // so there is no stream machinery per 64 KiB message and nothing is buffered.
  peer._channel.onmessage = null;
  const wire = new DataChannelWire(peer._channel, { listen: true });
  peer.on('close', () => wire.close());
  peer.on('error', (e) => wire.close(e));
  const channel = new BulkChannel(wire, init);
  // Messages that arrived before the handler was detached sit in simple-peer's stream: deliver
  // them first (in order; nothing after them has been delivered yet).
  for (let d = peer.read(); d !== null; d = peer.read()) wire.deliver(d);
  channel.onClose(() => peer.destroy());
  return { channel, peer, setupMs: performance.now() - t0 };
}
