/**
 * The `cpu` backend: memory semantics (views share storage, write/read/copy/fill), named
 * errors on bad input, and that its ops are the reference ops (same results on fresh inputs).
 */
import { describe, expect, it } from 'vitest';
import { BackendInputError, ForeignTensorError, createCpuBackend, type Tensor } from '../../src/backend/index.ts';
import { allclose, attentionForward, freshSeed, layernormForward, randomUniform } from '../../src/ops/reference/index.ts';

describe('cpu backend', () => {
  it('views share storage with their root and compose offsets', async () => {
    const be = createCpuBackend();
    const t = be.alloc(10);
    const v = be.view(t, 2, 6);
    const w = be.view(v, 3, 2);
    expect(w.offset).toBe(5);
    be.write(w, Float32Array.of(7, 8));
    be.fill(be.view(t, 0, 1), 3);
    expect(Array.from(await be.read(t))).toEqual([3, 0, 0, 0, 0, 7, 8, 0, 0, 0]);
    const c = be.alloc(6);
    be.copy(c, v);
    expect(Array.from(await be.read(c))).toEqual([0, 0, 0, 7, 8, 0]);
    be.zero(v);
    expect(Array.from(await be.read(t))).toEqual([3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const ids = be.alloc(3, 'i32');
    be.write(ids, Int32Array.of(1, 2, 3));
    expect(Array.from(await be.readI32(ids))).toEqual([1, 2, 3]);
  });

  it('rejects bad input with named errors', async () => {
    const be = createCpuBackend();
    const t = be.alloc(4);
    expect(() => be.view(t, 2, 3)).toThrow(BackendInputError);
    expect(() => be.write(t, new Float32Array(5))).toThrow(BackendInputError);
    expect(() => be.write(t, new Int32Array(2))).toThrow(/cannot write Int32Array/);
    await expect(be.readI32(t)).rejects.toThrow(BackendInputError);
    expect(() => be.geluForward(t, be.alloc(3), 4)).toThrow(/geluForward: tensor inp holds 3 elements, needs 4/);
    expect(() => be.encoderForward(be.alloc(8), t, t, t, 1, 2, 4)).toThrow(/tensor inp is f32, needs i32/);
    expect(() => be.attentionForward(t, t, t, t, 1, 1, 3, 2)).toThrow(/not a multiple/);
    const foreign = { backend: 'webgpu', dtype: 'f32', length: 4, offset: 0 } as Tensor;
    expect(() => be.zero(foreign)).toThrow(ForeignTensorError);
    be.free(t);
    expect(() => be.zero(t)).toThrow(ForeignTensorError);
    const logits = be.alloc(6);
    const tg = be.alloc(2, 'i32');
    be.write(tg, Int32Array.of(0, 3));
    expect(() => be.softmaxCrossEntropyForward(be.alloc(2), be.alloc(6), logits, tg, 2, 3)).toThrow(/target 3 at 1/);
  });

  it('computes the reference ops', async () => {
    const seed = freshSeed();
    const be = createCpuBackend();
    const [B, T, C, NH] = [2, 5, 8, 2];
    const qkvData = randomUniform(B * T * 3 * C, seed);
    const qkv = be.alloc(qkvData.length);
    be.write(qkv, qkvData);
    const out = be.alloc(B * T * C);
    const preatt = be.alloc(B * NH * T * T);
    const att = be.alloc(B * NH * T * T);
    be.attentionForward(out, preatt, att, qkv, B, T, C, NH);
    const want = new Float32Array(B * T * C);
    attentionForward(want, new Float32Array(B * NH * T * T), new Float32Array(B * NH * T * T), qkvData, B, T, C, NH);
    expect(allclose(await be.read(out), want, { atol: 0, rtol: 0 }).ok, `seed ${seed}`).toBe(true);

    const [N, C2] = [3, 8];
    const x = randomUniform(N * C2, seed + 1);
    const wgt = randomUniform(C2, seed + 2);
    const bias = randomUniform(C2, seed + 3);
    const tx = be.alloc(N * C2);
    const tw = be.alloc(C2);
    const tb = be.alloc(C2);
    be.write(tx, x);
    be.write(tw, wgt);
    be.write(tb, bias);
    const lo = be.alloc(N * C2);
    be.layernormForward(lo, be.alloc(N), be.alloc(N), tx, tw, tb, N, C2);
    const wantLn = new Float32Array(N * C2);
    layernormForward(wantLn, new Float32Array(N), new Float32Array(N), x, wgt, bias, N, C2);
    expect(Array.from(await be.read(lo))).toEqual(Array.from(wantLn));
    expect(await be.globalNormSquared(tw, C2)).toBeCloseTo(wgt.reduce((a, b) => a + b * b, 0), 5);
  });
});
