/**
 * Per-op timing on a real GPU (Node + Dawn) at the GPT-2 124M training shapes (B=8, T=1024,
 * C=768, NH=12, V=50257): each `webgpu` backend op alone, repeated, wall time per call after
 * a sync. Shows where a training step's time goes. Prints one JSON line per op.
 *   bash .gpu-bundle/run.sh .gpu-bundle/bench-ops.mjs
 * Env knobs for the fused attention rows: see below (FLASH_*, ATTENTION_ONLY).
 */
import { gpu } from './dawn.ts';
import { encodeMatmul, flashTiledTiles, flashTiles, flashTuning, type MatmulVariant } from '@swarmgrad/gpu-shaders';
import { allclose, flashAttentionBackward, flashAttentionForward, mulberry32, randomUniform } from '../../peer-core/src/ops/reference/index.ts';
import { createWebGpuBackend } from '../../peer-core/src/backend/webgpu/index.ts';

// Flash attention tiles: FLASH_ROWS (invocations per workgroup, even), FLASH_KEY_TILE,
// FLASH_QUERY_TILE (multiples of 4, capped by workgroup memory), FLASH_UNROLL=0 (keep loops).
if (process.env.FLASH_ROWS) flashTuning.rows = Number(process.env.FLASH_ROWS);
if (process.env.FLASH_KEY_TILE) flashTuning.maxKeyTile = Number(process.env.FLASH_KEY_TILE);
if (process.env.FLASH_QUERY_TILE) flashTuning.maxQueryTile = Number(process.env.FLASH_QUERY_TILE);
if (process.env.FLASH_UNROLL === '0') flashTuning.unroll = false;
if (process.env.FLASH_TILED === '0') flashTuning.tiled = false;
// ATTENTION_ONLY=1: only the attention rows (the unfused pair, the fused check and timings).
// FLASH_VARIANTS='[{"tiledRows":32},{"tiled":false}]': the fused check and timings once per
// flashTuning override (applied on top of the env knobs above), in one run.
const attentionOnly = process.env.ATTENTION_ONLY === '1';
const flashVariants: Array<Partial<typeof flashTuning>> = process.env.FLASH_VARIANTS ? JSON.parse(process.env.FLASH_VARIANTS) : [{}];
const [B, T, C, NH, V] = [8, 1024, 768, 12, 50257];
const BT = B * T;
const be = await createWebGpuBackend({ gpu });
const f = (n: number) => be.alloc(n);
const x = f(BT * 4 * C);
const y = f(BT * 4 * C);
const w = f(4 * C * C);
const bias = f(4 * C);
const qkv = f(BT * 3 * C);
const att = f(B * NH * T * T);
const preatt = f(B * NH * T * T);
const datt = f(B * NH * T * T);
const g1 = f(4 * C);
const w2 = f(4 * C * C);
const g2 = f(4 * C);
const logits = f(BT * V);
const probs = f(BT * V);
const wte = f(V * C);
const losses = f(BT);
const targets = be.alloc(BT, 'i32');
be.write(targets, Int32Array.from({ length: BT }, (_, i) => (i * 7919) % V));
const mean = f(BT);
const rstd = f(BT);

async function time(name: string, flops: number, fn: () => void, reps = 5): Promise<void> {
  fn();
  await be.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  await be.sync();
  const ms = (performance.now() - t0) / reps;
  console.log(JSON.stringify({ op: name, ms: Math.round(ms * 100) / 100, tflops: flops ? Math.round((flops / ms / 1e9) * 10) / 10 : undefined }));
}

const mm = (M: number, K: number, N: number) => 2 * M * K * N;
if (!attentionOnly) {
await time('matmul qkv fwd (8192x768x2304 +bias)', mm(BT, C, 3 * C), () => be.matmulForward(y, x, w, bias, { M: BT, K: C, N: 3 * C }));
await time('matmul fc fwd (8192x768x3072 +bias)', mm(BT, C, 4 * C), () => be.matmulForward(y, x, w, bias, { M: BT, K: C, N: 4 * C }));
await time('matmul fc bwd (dA, dB, dbias)', 2 * mm(BT, C, 4 * C), () => be.matmulBackward(y, w2, g2, x, qkv, w, { M: BT, K: C, N: 4 * C }));
await time('head fwd (8192x768x50257, transB)', mm(BT, C, V), () => be.matmulForward(logits, x, wte, null, { M: BT, K: C, N: V, transB: true }), 2);
await time('head bwd (dA, dB)', 2 * mm(BT, C, V), () => be.matmulBackward(x, wte, null, logits, x, wte, { M: BT, K: C, N: V, transB: true }), 2);
}
await time('attention fwd', 0, () => be.attentionForward(y, preatt, att, qkv, B, T, C, NH), 3);
await time('attention bwd', 0, () => be.attentionBackward(x, preatt, datt, y, qkv, att, B, T, C, NH), 3);
// Fused (flash) attention, one layer: keeps lse (B,NH,T) instead of preatt/att (B,NH,T,T).
// FLOPs counted as the causal products only (FlashAttention's convention): forward q·kᵀ and
// p·v = 2·(2·T²·hs)/2 per head; backward 2.5× forward (the kernels recompute q·kᵀ and dout·vᵀ
// in both dq and dkv, so they execute 3.5× forward).
// Correctness on this GPU first (the tests run on SwiftShader): fused forward and backward at
// hs 64 and a T off the tiles vs the CPU reference in Node, as an allclose report.
const baseTuning = { ...flashTuning };
for (const variant of flashVariants) {
Object.assign(flashTuning, baseTuning, variant);
{
  const [b, t, c, nh] = [2, 300, 128, 2];
  const qkvH = randomUniform(b * t * 3 * c, 11, -1.5, 1.5);
  const doutH = randomUniform(b * t * c, 12);
  const dqkv0 = randomUniform(b * t * 3 * c, 13);
  const [outR, lseR, dqkvR] = [new Float32Array(b * t * c), new Float32Array(b * nh * t), dqkv0.slice()];
  flashAttentionForward(outR, lseR, qkvH, b, t, c, nh);
  flashAttentionBackward(dqkvR, doutH, qkvH, outR, lseR, b, t, c, nh);
  const [tq, to, tl, tg, td] = [f(qkvH.length), f(outR.length), f(lseR.length), f(doutH.length), f(dqkv0.length)];
  be.write(tq, qkvH);
  be.write(tg, doutH);
  be.write(td, dqkv0);
  be.flashAttentionForward(to, tl, tq, b, t, c, nh);
  be.flashAttentionBackward(td, tg, tq, to, tl, b, t, c, nh);
  const tol = { atol: 1e-4, rtol: 1e-3 };
  const rep = (got: Float32Array, want: Float32Array) => {
    const r = allclose(got, want, tol);
    return { ok: r.ok, maxAbsErr: r.maxAbsErr, bad: r.bad };
  };
  console.log(JSON.stringify({ op: 'flash attention check (B=2 T=300 C=128 NH=2 vs CPU reference)', out: rep(await be.read(to), outR), lse: rep(await be.read(tl), lseR), dqkv: rep(await be.read(td), dqkvR) }));
  for (const x of [tq, to, tl, tg, td]) be.free(x);
}
}
// Timings: FLASH_ROUNDS rounds (default 1), each timing every variant in turn (the GPU may be
// shared: interleaving shows drift), then the fastest and the median per variant.
{
  const lse = f(B * NH * T);
  const r = mulberry32(3);
  be.write(qkv, Float32Array.from({ length: BT * 3 * C }, () => r() * 2 - 1));
  const fwdFlops = 2 * 2 * T * T * (C / NH) * B * NH * 0.5;
  const rounds = Number(process.env.FLASH_ROUNDS ?? 1);
  const runs = flashVariants.map(() => ({ fwd: [] as number[], bwd: [] as number[] }));
  const msOf = async (fn: () => void, reps: number) => {
    fn();
    await be.sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    await be.sync();
    return (performance.now() - t0) / reps;
  };
  for (let round = 0; round < rounds; round++)
    for (const [i, variant] of flashVariants.entries()) {
      Object.assign(flashTuning, baseTuning, variant);
      runs[i]!.fwd.push(await msOf(() => be.flashAttentionForward(y, lse, qkv, B, T, C, NH), 10));
      // dout = the forward's out (y), dqkv accumulates into x
      runs[i]!.bwd.push(await msOf(() => be.flashAttentionBackward(x, y, qkv, y, lse, B, T, C, NH), 10));
    }
  const lim = be.ctx.device.limits;
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  for (const [i, variant] of flashVariants.entries()) {
    Object.assign(flashTuning, baseTuning, variant);
    const { fwd, bwd } = runs[i]!;
    const tiled = Object.fromEntries((['forward', 'dq', 'dkv'] as const).map((k) => [k, flashTuning.tiled ? flashTiledTiles(k, C / NH, lim.maxComputeWorkgroupStorageSize, lim.maxComputeInvocationsPerWorkgroup) : null]));
    console.log(JSON.stringify({ op: 'flash attention fwd', variant, ms: r2(Math.min(...fwd)), medianMs: r2(med(fwd)), tflops: r2(fwdFlops / Math.min(...fwd) / 1e9) }));
    console.log(JSON.stringify({ op: 'flash attention bwd', variant, ms: r2(Math.min(...bwd)), medianMs: r2(med(bwd)), tflops: r2((2.5 * fwdFlops) / Math.min(...bwd) / 1e9) }));
    console.log(JSON.stringify({ op: 'flash attention tiles', variant, tiled, rowKernels: flashTiles(C / NH, lim.maxComputeWorkgroupStorageSize), unroll: flashTuning.unroll, workgroupBytes: lim.maxComputeWorkgroupStorageSize, bytesPerLayerFused: B * NH * T * 4, bytesPerLayerUnfused: 2 * B * NH * T * T * 4 }));
  }
  Object.assign(flashTuning, baseTuning);
  be.free(lse);
}
if (attentionOnly) process.exit(0);
await time('softmax xent fwd', 0, () => be.softmaxCrossEntropyForward(losses, probs, logits, targets, BT, V), 3);
await time('softmax xent bwd', 0, () => be.softmaxCrossEntropyBackward(logits, losses, probs, targets, BT, V), 3);
await time('layernorm fwd', 0, () => be.layernormForward(y, mean, rstd, x, bias, bias, BT, C));
await time('layernorm bwd', 0, () => be.layernormBackward(y, g1, g2, x, x, bias, mean, rstd, BT, C));
await time('gelu fwd (4C)', 0, () => be.geluForward(y, x, BT * 4 * C));
await time('encoder bwd', 0, () => be.encoderBackward(wte, w, x, targets, B, T, C), 3);
// The head forward as the model records it: input and logits are views of one activation
// arena, so the matmul runs its read_write variant. Compare the kernel variants there.
{
  const arenaFloats = BT * C + BT * V + 64;
  const arena = be.ctx.device.createBuffer({ size: arenaFloats * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const xs = { buffer: arena, offset: 0, size: BT * C * 4 };
  const lg = { buffer: arena, offset: Math.ceil((BT * C * 4) / 256) * 256, size: BT * V * 4 };
  const wteBuf = { buffer: (wte as unknown as { buffer: GPUBuffer }).buffer, offset: 0, size: V * C * 4 };
  for (const variant of ['any128'] as MatmulVariant[]) {
    await time(`head fwd, arena views (read_write), ${variant}`, mm(BT, C, V), () => {
      const enc = be.ctx.device.createCommandEncoder();
      encodeMatmul(be.ctx, enc, { M: BT, K: C, N: V, a: xs, b: wteBuf, transB: true, out: lg, variant });
      be.ctx.device.queue.submit([enc.finish()]);
    }, 2);
  }
}
// The LM head's backward products one by one, with the any-shape kernel's operand bindings
// as `auto` picks them and with some forced to scalar arrays.
{
  const bufOf = (t: unknown, n: number) => ({ buffer: (t as { buffer: GPUBuffer }).buffer, offset: 0, size: n * 4 });
  const dl = bufOf(logits, BT * V);
  const wt = bufOf(wte, V * C);
  const xb = bufOf(x, BT * C);
  const yb = bufOf(y, BT * C);
  const dwte = be.alloc(V * C);
  const dw = bufOf(dwte, V * C);
  const forced: Array<Array<'a' | 'b' | 'bias' | 'out'>> = [[], ['b'], ['out'], ['b', 'out'], ['a', 'b', 'out']];
  for (const sb of forced) {
    await time(`head bwd dx = dlogits·wte, scalar [${sb}]`, mm(BT, V, C), () => {
      const enc = be.ctx.device.createCommandEncoder();
      encodeMatmul(be.ctx, enc, { M: BT, K: V, N: C, a: dl, b: wt, out: yb, accumulate: true, scalarBindings: sb });
      be.ctx.device.queue.submit([enc.finish()]);
    }, 2);
    await time(`head bwd dwte = dlogitsT·x, scalar [${sb}]`, mm(BT, V, C), () => {
      const enc = be.ctx.device.createCommandEncoder();
      encodeMatmul(be.ctx, enc, { M: V, K: BT, N: C, transA: true, a: dl, b: xb, out: dw, accumulate: true, scalarBindings: sb });
      be.ctx.device.queue.submit([enc.finish()]);
    }, 2);
  }
  await time('head fwd, all scalar (old any-shape kernel)', mm(BT, C, V), () => {
    const enc = be.ctx.device.createCommandEncoder();
    encodeMatmul(be.ctx, enc, { M: BT, K: C, N: V, a: xb, b: wt, transB: true, out: dl, scalarBindings: ['a', 'b', 'out'] });
    be.ctx.device.queue.submit([enc.finish()]);
  }, 2);
}
process.exit(0);
