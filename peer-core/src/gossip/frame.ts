/**
 * Gossip frame: the bytes of one gossip message on the wire (what SwarmNode.sendTensor carries).
 *   u8 kind | u8 flags | u16 tensor-name length L | u32 step | L bytes tensor name (UTF-8) | body
 * little-endian. The body is a codec wire message (peer-core/src/codecs/wire.ts) or empty.
 */
import { GossipFrameError } from './errors.ts';

/** Wire kind = index here: new kinds go at the end. */
export const MESSAGE_KINDS = ['params', 'delta', 'choco-q', 'choco-full', 'adpsgd-req', 'adpsgd-rep', 'model-pull', 'model', 'adpsgd-push', 'job-state'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** flags bit 0 (choco): the sender asks the receiver to send its full public copy next round. */
export const FLAG_RESYNC = 1;

export const FRAME_HEADER_BYTES = 8;

export interface GossipMessage {
  from: string;
  kind: MessageKind;
  step: number;
  tensor: string;
  flags: number;
  body: Uint8Array;
}

export type Outgoing = Omit<GossipMessage, 'from'>;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(m: Outgoing): Uint8Array {
  const name = enc.encode(m.tensor);
  if (name.length > 0xffff) throw new GossipFrameError(`tensor name is ${name.length} bytes, at most 65535`);
  const kind = MESSAGE_KINDS.indexOf(m.kind);
  if (kind < 0) throw new GossipFrameError(`unknown message kind '${m.kind}'`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + name.length + m.body.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, kind);
  dv.setUint8(1, m.flags & 0xff);
  dv.setUint16(2, name.length, true);
  dv.setUint32(4, m.step >>> 0, true);
  out.set(name, FRAME_HEADER_BYTES);
  out.set(m.body, FRAME_HEADER_BYTES + name.length);
  return out;
}

export function decodeFrame(from: string, bytes: Uint8Array): GossipMessage {
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw new GossipFrameError(`frame from ${from} is ${bytes.byteLength} bytes, shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = MESSAGE_KINDS[dv.getUint8(0)];
  if (!kind) throw new GossipFrameError(`frame from ${from} has unknown kind ${dv.getUint8(0)}`);
  const L = dv.getUint16(2, true);
  if (bytes.byteLength < FRAME_HEADER_BYTES + L) throw new GossipFrameError(`frame from ${from} is truncated inside its tensor name`);
  let tensor: string;
  try {
    tensor = dec.decode(bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + L));
  } catch {
    throw new GossipFrameError(`frame from ${from} has a tensor name that is not UTF-8`);
  }
  return { from, kind, flags: dv.getUint8(1), step: dv.getUint32(4, true), tensor, body: bytes.subarray(FRAME_HEADER_BYTES + L) };
}
