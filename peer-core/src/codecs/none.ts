/**
 * `none`: the no-op baseline (hivemind's NoCompression). Payload: n little-endian f32.
 * Not here: any loss of information; non-finite values still get rejected on both ends.
 */
import { BaseCodec, bytesOf, readF32 } from './base.ts';
import type { CodecName } from './types.ts';

export class NoneCodec extends BaseCodec {
  readonly name: CodecName = 'none';
  constructor() {
    super(false);
  }
  protected encode(p: Float32Array): Uint8Array {
    return bytesOf(p.slice());
  }
  protected decode(payload: Uint8Array, n: number): Float32Array {
    return readF32(payload, 0, n);
  }
  payloadBytes(n: number): number {
    return 4 * n;
  }
}
