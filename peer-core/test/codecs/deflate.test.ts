/**
 * The optional lossless raw-DEFLATE stage of the codec wire layer (codecs/wire.ts packWire /
 * unpackWire): bit-exact round trips for every codec at awkward sizes, the stage is kept only
 * when it shrinks the payload, the flag is honoured by the sync decoder with a named error, and
 * malformed or oversized compressed payloads become CodecPayloadError (never a crash).
 */
import { describe, expect, it } from 'vitest';
import { CODEC_NAMES, CodecPayloadError, createCodec, decodeWire, encodeWire, maxPayloadBytes, packWire, unpackWire, WIRE_FLAG_DEFLATE, WIRE_HEADER_BYTES } from '../../src/codecs/index.ts';
import { freshSeed, randomNormal } from '../../src/util/random.ts';

const SIZES = [0, 1, 7, 1023, 65537];

const flagsOf = (wire: Uint8Array) => new DataView(wire.buffer, wire.byteOffset, wire.byteLength).getUint16(2, true);

/** Raw DEFLATE of `bytes` through the platform stream (the same one packWire uses). */
async function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const out = await new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer();
  return new Uint8Array(out);
}

function header(codecId: number, n: number, flags: number): Uint8Array {
  const h = new Uint8Array(WIRE_HEADER_BYTES);
  const dv = new DataView(h.buffer);
  dv.setUint8(0, codecId);
  dv.setUint8(1, 1);
  dv.setUint16(2, flags, true);
  dv.setUint32(4, n, true);
  return h;
}

/** Index of the first differing byte, or -1 when equal (fast: no per-element expect). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) return Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const o = new Uint8Array(a.byteLength + b.byteLength);
  o.set(a);
  o.set(b, a.byteLength);
  return o;
};

describe('deflate wire stage', () => {
  it('round trips every codec bit for bit at awkward sizes, and never grows a message', async () => {
    for (const name of CODEC_NAMES) {
      for (const n of SIZES) {
        const seed = freshSeed();
        const x = randomNormal(n, seed);
        const enc = createCodec(name).compress(x, { seed });
        const plain = encodeWire(enc);
        const packed = await packWire(enc, { deflate: true });
        expect(packed.byteLength, `${name} n=${n} seed ${seed}`).toBeLessThanOrEqual(plain.byteLength);
        const back = await unpackWire(packed);
        expect(back.codec).toBe(name);
        expect(back.n).toBe(n);
        expect(firstDiff(back.payload, enc.payload), `${name} n=${n} seed ${seed}`).toBe(-1);
        // Flag set exactly when the compressed form is the one on the wire.
        expect(flagsOf(packed) === WIRE_FLAG_DEFLATE).toBe(packed.byteLength < plain.byteLength);
        // Without the option it is the plain layout, which both decoders read.
        const off = await packWire(enc);
        expect(firstDiff(off, plain)).toBe(-1);
        expect(firstDiff((await unpackWire(plain)).payload, decodeWire(plain).payload)).toBe(-1);
      }
    }
  });

  it('shrinks int8 payloads of smooth data below 8 bits per value (what makes int8 >= 4x over fp32)', async () => {
    const n = 65536;
    const seed = freshSeed();
    const x = randomNormal(n, seed);
    const enc = createCodec('int8').compress(x, { seed });
    const packed = await packWire(enc, { deflate: true });
    expect(flagsOf(packed), `seed ${seed}`).toBe(WIRE_FLAG_DEFLATE);
    // Gaussian values on a power-of-two scale use ~6 of the 8 bits: DEFLATE's Huffman stage
    // must bring the message below the 1 byte per value of the raw layout.
    expect(packed.byteLength, `seed ${seed}`).toBeLessThan(enc.payload.byteLength * 0.95);
    expect((4 * n) / packed.byteLength, `seed ${seed}`).toBeGreaterThan(4);
  });

  it('keeps incompressible payloads plain', async () => {
    // fp32 of random normals: the mantissa bits are noise, DEFLATE cannot shrink them by much,
    // and whatever it returns is only used if smaller.
    const enc = createCodec('none').compress(randomNormal(4096, freshSeed()));
    const z = await deflateRaw(enc.payload);
    const packed = await packWire(enc, { deflate: true });
    if (z.byteLength >= enc.payload.byteLength) expect(flagsOf(packed)).toBe(0);
    else expect(packed.byteLength).toBe(WIRE_HEADER_BYTES + z.byteLength);
  });

  it('the sync decoder refuses a compressed message with a named error', async () => {
    const enc = createCodec('int8').compress(randomNormal(4096, freshSeed()), { seed: 1 });
    const packed = await packWire(enc, { deflate: true });
    expect(flagsOf(packed)).toBe(WIRE_FLAG_DEFLATE);
    expect(() => decodeWire(packed)).toThrow(CodecPayloadError);
    expect(() => decodeWire(packed)).toThrow(/unpackWire/);
  });

  it('malformed input: corrupt stream, truncated stream, unknown flags, decompression bomb', async () => {
    const n = 4096;
    const enc = createCodec('int8').compress(randomNormal(n, freshSeed()), { seed: 3 });
    const packed = await packWire(enc, { deflate: true });
    // A DEFLATE block type 3 is reserved: invalid from the first byte.
    await expect(unpackWire(concat(header(2, n, WIRE_FLAG_DEFLATE), new Uint8Array([0xff, 0xff, 0xff, 0xff])))).rejects.toThrow(CodecPayloadError);
    // Cut the stream in half: the inflater reports an unexpected end.
    await expect(unpackWire(packed.subarray(0, WIRE_HEADER_BYTES + ((packed.byteLength - WIRE_HEADER_BYTES) >> 1)))).rejects.toThrow(CodecPayloadError);
    // Empty compressed payload.
    await expect(unpackWire(header(2, n, WIRE_FLAG_DEFLATE))).rejects.toThrow(CodecPayloadError);
    // Header flags this peer does not know.
    await expect(unpackWire(concat(header(2, n, 2), enc.payload))).rejects.toThrow(/unknown header flags/);
    expect(() => decodeWire(concat(header(2, n, 0x80), enc.payload))).toThrow(CodecPayloadError);
    // A few KB that inflate to far more than any codec's layout for n = 16 values.
    const bomb = await deflateRaw(new Uint8Array(1 << 20));
    expect(bomb.byteLength).toBeLessThan(maxPayloadBytes(16) * 100);
    await expect(unpackWire(concat(header(0, 16, WIRE_FLAG_DEFLATE), bomb))).rejects.toThrow(/inflates beyond/);
    // A well-formed stream whose inflated length is wrong for the codec: the codec's own check.
    const wrong = await unpackWire(concat(header(2, n + 4, WIRE_FLAG_DEFLATE), packed.subarray(WIRE_HEADER_BYTES)));
    expect(() => createCodec('int8').decompress(wrong)).toThrow(CodecPayloadError);
  });
});
