/**
 * The word-reading slicing-by-16 CRC-32 against the bit-level reference and the byte-wise
 * slicing-by-8, on fresh random inputs at every alignment (0..7) and for lengths around the
 * 64-byte switch and the 16-byte blocks, including running (incremental) checksums.
 */
import { describe, expect, it } from 'vitest';
import { crc32, crc32Bytes, crc32Reference } from '../../src/net/crc32.ts';
import { freshSeed, mulberry32 } from '../../src/util/random.ts';

describe('crc32 (slicing-by-16 over words)', () => {
  it('matches the reference at every alignment and length, and when continued', () => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const buf = new Uint8Array(8192 + 8);
    for (let i = 0; i < buf.length; i++) buf[i] = (rnd() * 256) | 0;
    const lengths = [0, 1, 15, 16, 17, 63, 64, 65, 79, 80, 81, 127, 128, 1000, 4096 + 13, 8192];
    for (const off of [0, 1, 2, 3, 4, 5, 6, 7]) {
      for (const len of lengths) {
        const b = buf.subarray(off, off + len);
        const want = crc32Reference(b);
        expect(crc32(b), `seed ${seed} offset ${off} length ${len}`).toBe(want);
        expect(crc32Bytes(b), `seed ${seed} offset ${off} length ${len}`).toBe(want);
        const cut = (rnd() * len) | 0;
        expect(crc32(b.subarray(cut), crc32(b.subarray(0, cut))), `seed ${seed} continued at ${cut}`).toBe(want);
      }
    }
    expect(crc32(new TextEncoder().encode('123456789'.repeat(10)))).toBe(crc32Reference(new TextEncoder().encode('123456789'.repeat(10))));
  });
});
