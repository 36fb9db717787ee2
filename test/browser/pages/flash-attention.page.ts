/**
 * Browser side of the fused (flash) attention tests: runs the WGSL forward and backward on
 * fresh random inputs, runs the CPU flash reference on the same inputs in the page, and
 * returns allclose reports for Node to assert on. dqkv starts random, so the tests also check
 * that backward accumulates (+=). Options: other kernels and tile sizes (flashTuning), and the model's
 * binding pattern (qkv, out, lse as views of one arena; dqkv, dout as views of another).
 */
import * as gpu from '@swarmgrad/gpu-shaders';
import { type FlashTiledTiles, type FlashTiles, flashTiledTiles, flashTiles, flashTuning, GpuContext } from '@swarmgrad/gpu-shaders';
import * as ref from '@swarmgrad/peer-core/reference';
import { type AllcloseReport, allclose, randomUniform } from '@swarmgrad/peer-core/reference';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

const TOL = { atol: 1e-4, rtol: 1e-3 };

async function run(ctx: GpuContext, what: string, fn: (enc: GPUCommandEncoder) => void): Promise<void> {
  await ctx.checked(what, () => {
    const enc = ctx.device.createCommandEncoder();
    fn(enc);
    ctx.device.queue.submit([enc.finish()]);
  });
  await ctx.device.queue.onSubmittedWorkDone();
}

/** Floats rounded up to a 256-byte view offset. */
const al = (n: number) => Math.ceil(n / 64) * 64;

export interface FlashOpts {
  /** Tile knobs for this call (restored after). */
  tuning?: Partial<typeof flashTuning>;
  /** Bind the tensors as views of two arenas, as the model does. */
  arena?: boolean;
}

const api = {
  async tiles(hs: number): Promise<{ workgroupBytes: number; maxInvocations: number; tiles: FlashTiles; tiled: Record<'forward' | 'dq' | 'dkv', FlashTiledTiles | null> }> {
    const ctx = await context();
    const workgroupBytes = ctx.device.limits.maxComputeWorkgroupStorageSize;
    const maxInvocations = ctx.device.limits.maxComputeInvocationsPerWorkgroup;
    const tiled = { forward: flashTiledTiles('forward', hs, workgroupBytes, maxInvocations), dq: flashTiledTiles('dq', hs, workgroupBytes, maxInvocations), dkv: flashTiledTiles('dkv', hs, workgroupBytes, maxInvocations) };
    return { workgroupBytes, maxInvocations, tiles: flashTiles(hs, workgroupBytes), tiled };
  },

  async flash(seed: number, B: number, T: number, C: number, NH: number, opts: FlashOpts = {}): Promise<Record<string, AllcloseReport>> {
    const ctx = await context();
    const qkv = randomUniform(B * T * 3 * C, seed, -1.5, 1.5);
    const dout = randomUniform(B * T * C, seed + 1);
    const dqkv0 = randomUniform(B * T * 3 * C, seed + 2);
    const out = new Float32Array(B * T * C);
    const lse = new Float32Array(B * NH * T);
    ref.flashAttentionForward(out, lse, qkv, B, T, C, NH);
    const dqkv = dqkv0.slice();
    ref.flashAttentionBackward(dqkv, dout, qkv, out, lse, B, T, C, NH);

    const [nQkv, nOut, nLse] = [B * T * 3 * C, B * T * C, B * NH * T];
    let b: { qkv: gpu.BufferArg; out: gpu.BufferArg; lse: gpu.BufferArg; dqkv: gpu.BufferArg; dout: gpu.BufferArg };
    let readBack: () => Promise<{ out: Float32Array; lse: Float32Array; dqkv: Float32Array }>;
    if (opts.arena) {
      // activations: [qkv | out | lse]; gradients: [dout | dqkv]
      const aOff = [0, al(nQkv), al(nQkv) + al(nOut)];
      const acts = new Float32Array(aOff[2]! + nLse);
      acts.set(qkv);
      const gOff = [0, al(nOut)];
      const grads = new Float32Array(gOff[1]! + nQkv);
      grads.set(dout);
      grads.set(dqkv0, gOff[1]);
      const [A, G] = [ctx.buffer(acts), ctx.buffer(grads)];
      const v = (buffer: GPUBuffer, off: number, n: number) => ({ buffer, offset: off * 4, size: n * 4 });
      b = { qkv: v(A, aOff[0]!, nQkv), out: v(A, aOff[1]!, nOut), lse: v(A, aOff[2]!, nLse), dout: v(G, gOff[0]!, nOut), dqkv: v(G, gOff[1]!, nQkv) };
      readBack = async () => {
        const a = await ctx.readFloat32(A, acts.length);
        const g = await ctx.readFloat32(G, grads.length);
        return { out: a.slice(aOff[1], aOff[1]! + nOut), lse: a.slice(aOff[2], aOff[2]! + nLse), dqkv: g.slice(gOff[1], gOff[1]! + nQkv) };
      };
    } else {
      const g = { qkv: ctx.buffer(qkv), out: ctx.buffer(nOut * 4), lse: ctx.buffer(nLse * 4), dout: ctx.buffer(dout), dqkv: ctx.buffer(dqkv0) };
      b = g;
      readBack = async () => ({ out: await ctx.readFloat32(g.out, nOut), lse: await ctx.readFloat32(g.lse, nLse), dqkv: await ctx.readFloat32(g.dqkv, nQkv) });
    }

    const saved = { ...flashTuning };
    Object.assign(flashTuning, opts.tuning ?? {});
    try {
      await run(ctx, 'flashAttention', (enc) => {
        gpu.encodeFlashAttentionForward(ctx, enc, { out: b.out, lse: b.lse, qkv: b.qkv, B, T, C, NH });
        gpu.encodeFlashAttentionBackward(ctx, enc, { dqkv: b.dqkv, dout: b.dout, qkv: b.qkv, out: b.out, lse: b.lse, B, T, C, NH });
      });
    } finally {
      Object.assign(flashTuning, saved);
    }
    const got = await readBack();
    return {
      out: allclose(got.out, out, TOL),
      lse: allclose(got.lse, lse, TOL),
      dqkv: allclose(got.dqkv, dqkv, TOL),
    };
  },

  /** The named error of a bad call (or 'no error'). */
  async badInput(which: 'heads' | 'buffer' | 'hs'): Promise<string> {
    const ctx = await context();
    const enc = ctx.device.createCommandEncoder();
    const buf = (n: number) => ctx.buffer(n * 4);
    try {
      if (which === 'heads') gpu.encodeFlashAttentionForward(ctx, enc, { out: buf(40), lse: buf(40), qkv: buf(120), B: 1, T: 4, C: 10, NH: 3 });
      if (which === 'buffer') gpu.encodeFlashAttentionBackward(ctx, enc, { dqkv: buf(8 * 24), dout: buf(8 * 8), qkv: buf(8 * 24), out: buf(8 * 8), lse: buf(1), B: 1, T: 8, C: 8, NH: 2 });
      if (which === 'hs') gpu.encodeFlashAttentionForward(ctx, enc, { out: buf(512), lse: buf(1), qkv: buf(1536), B: 1, T: 1, C: 512, NH: 1 });
      return 'no error';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  },
};

declare global {
  interface Window {
    swarmgradFlashTest: typeof api;
  }
}
window.swarmgradFlashTest = api;
