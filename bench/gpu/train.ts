/**
 * Real-GPU training throughput (Node + Dawn): the peer-core GPT on the `webgpu` backend,
 * AdamW with global-norm clipping, random tokens, default the GPT-2 124M shape at B=8, T=1024.
 * Prints one JSON line: tokens/s over the timed steps, ms per step, the losses, and the bytes
 * the backend holds (GPU memory of tensors, scratch and staging).
 *   npx esbuild bench/gpu/train.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --outfile=.gpu-bundle/bench-train.mjs
 *   bash .gpu-bundle/run.sh .gpu-bundle/bench-train.mjs [preset|json-config] [B] [T] [steps]
 * ATTENTION_IMPL=flash (default: fused kernels, lse only) | matmul (unfused: batched matmuls
 * and softmax rows, preatt/att (B,NH,T,T) per layer) picks the attention for an A/B.
 * MATMUL_PRECISION=fp32 (default) | tensor-core: the backend's `matmulPrecision` (tensor-core =
 * MIXED PRECISION: f16-rounded matmul operands, f32 accumulation, fp32 everything else; the
 * device must offer subgroup matrices). The losses of every step (warm-up and timed) print,
 * so that a tensor-core run can be compared with an fp32 run on the same data and seed.
 * COMPARE_FP32=1 (with tensor-core): before training, one forward + backward on the same batch
 * and seed on an fp32 backend of the same device too, printing both losses and the gradient's
 * relative L2 error and cosine against fp32 (`gradVsFp32`).
 * SUBMIT_EVERY=n|inf: the backend's `submitEveryOps` (default SUBMIT_EVERY_OPS).
 * PROFILE=1: after the timed steps, one more step split into its phases with CPU wall times
 * (record forward, record backward, wait for the loss, grad norm, optimizer, final sync), then
 * one step with every compute pass timed on the GPU (timestamp queries, gpu-shaders'
 * PassProfiler): GPU busy time vs the step's span, and the passes summed by label.
 */
import { gpu } from './dawn.ts';
import { colsumTuning, flashTuning, matmulMixedTuning, matmulTuning, PassProfiler, summarizeProfile } from '@swarmgrad/gpu-shaders';
import { createWebGpuBackend } from '../../peer-core/src/backend/webgpu/index.ts';
import { GPT_PRESETS, type GPTConfig } from '../../peer-core/src/model/config.ts';
import { GPT } from '../../peer-core/src/model/gpt.ts';
import { AdamW } from '../../peer-core/src/train/optimizer.ts';
import { type Batch, forwardBackward, trainStep } from '../../peer-core/src/train/train.ts';
import { mulberry32 } from '../../peer-core/src/util/random.ts';

const arg = process.argv[2] ?? 'gpt2';
const cfg: GPTConfig = arg.startsWith('{') ? JSON.parse(arg) : GPT_PRESETS[arg as keyof typeof GPT_PRESETS];
const B = Number(process.argv[3] ?? 8);
const T = Number(process.argv[4] ?? 1024);
const steps = Number(process.argv[5] ?? 5);
const warmup = 2;

// MATMUL_ANY_BINDINGS=perOperand|pairedAB compares the any-shape matmul's binding policies.
if (process.env.MATMUL_ANY_BINDINGS) matmulTuning.anyBindings = process.env.MATMUL_ANY_BINDINGS as typeof matmulTuning.anyBindings;
// MATMUL_RO_INPUTS=0: every matmul input read_write where a dispatch aliases (the old way).
if (process.env.MATMUL_RO_INPUTS === '0') matmulTuning.readOnlyInputs = false;
// MATMUL_COPY_ALIASED=0: bind an A/B that aliases out's buffer read_write instead of copying it.
if (process.env.MATMUL_COPY_ALIASED === '0') matmulTuning.copyAliasedInputs = false;
// PAD_K=0: no padded-K path (the LM head's dA on the any-shape kernel); SPLIT_TB=0: no split-K
// for the B-transposed dX products; COLSUM_ROWS=n: rows per partial sum of the bias gradients.
if (process.env.PAD_K === '0') matmulTuning.padK = false;
if (process.env.SPLIT_TB === '0') matmulTuning.splitTransB = false;
if (process.env.COLSUM_ROWS) colsumTuning.rows = Number(process.env.COLSUM_ROWS);
// Flash attention tiles: FLASH_ROWS (invocations per workgroup, even), FLASH_KEY_TILE,
// FLASH_QUERY_TILE (multiples of 4, capped by workgroup memory), FLASH_UNROLL=0 (keep loops).
if (process.env.FLASH_ROWS) flashTuning.rows = Number(process.env.FLASH_ROWS);
if (process.env.FLASH_KEY_TILE) flashTuning.maxKeyTile = Number(process.env.FLASH_KEY_TILE);
if (process.env.FLASH_QUERY_TILE) flashTuning.maxQueryTile = Number(process.env.FLASH_QUERY_TILE);
if (process.env.FLASH_UNROLL === '0') flashTuning.unroll = false;
const attnImpl = process.env.ATTENTION_IMPL ?? 'flash';
if (attnImpl !== 'flash' && attnImpl !== 'matmul') throw new Error(`ATTENTION_IMPL must be flash or matmul, got ${attnImpl}`);
// MIN_TILES128=n: tensor-core products take 128x128 tiles from n of them on (default 128).
if (process.env.MIN_TILES128) matmulMixedTuning.minTiles128 = Number(process.env.MIN_TILES128);
// MIXED_SPLIT=0: no split-K in the tensor-core backward products (A/B of the split).
if (process.env.MIXED_SPLIT === '0') matmulMixedTuning.splitBelowWorkgroups = 0;
const precision = process.env.MATMUL_PRECISION ?? 'fp32';
if (precision !== 'fp32' && precision !== 'tensor-core') throw new Error(`MATMUL_PRECISION must be fp32 or tensor-core, got ${precision}`);
const submitEvery = process.env.SUBMIT_EVERY === 'inf' ? Infinity : process.env.SUBMIT_EVERY ? Number(process.env.SUBMIT_EVERY) : undefined;
const backend = await createWebGpuBackend({ gpu, attention: attnImpl === 'flash' ? 'fused' : 'unfused', matmulPrecision: precision, submitEveryOps: submitEvery });
// ACTIVATIONS=one: the stage's activations as views of one buffer (the old layout) for an A/B.
if (process.env.ACTIVATIONS === 'one') backend.activationLayout = 'one';
const model = new GPT(backend, cfg, { seed: 1 });
const opt = new AdamW(backend, model.layout.totalLength, { lr: 3e-4, weightDecay: 0.1 });
const r = mulberry32(7);
const tokens = Int32Array.from({ length: B * T + 1 }, () => Math.floor(r() * cfg.vocabSize));
const batch: Batch = { B, T, tokens: tokens.subarray(0, B * T), targets: tokens.slice(1) };

let gradVsFp32: Record<string, number> | undefined;
if (process.env.COMPARE_FP32 === '1' && precision === 'tensor-core') {
  const fpBackend = await createWebGpuBackend({ context: backend.ctx, attention: backend.attention });
  const fpModel = new GPT(fpBackend, cfg, { seed: 1 });
  const lossFp = await forwardBackward(fpModel, [batch]);
  const gFp = await fpModel.getGrads();
  fpModel.dispose();
  const lossTc = await forwardBackward(model, [batch]);
  const gTc = await model.getGrads();
  let dot = 0;
  let nFp = 0;
  let nTc = 0;
  let nDiff = 0;
  let maxAbsErr = 0;
  for (let i = 0; i < gFp.length; i++) {
    const a = gTc[i]!;
    const b = gFp[i]!;
    dot += a * b;
    nFp += b * b;
    nTc += a * a;
    nDiff += (a - b) * (a - b);
    maxAbsErr = Math.max(maxAbsErr, Math.abs(a - b));
  }
  gradVsFp32 = { lossFp32: lossFp, lossTensorCore: lossTc, relL2: Math.sqrt(nDiff / nFp), cosine: dot / Math.sqrt(nFp * nTc), maxAbsErr, gradNormFp32: Math.sqrt(nFp) };
}

const losses: number[] = [];
for (let i = 0; i < warmup; i++) losses.push((await trainStep(model, [batch], opt)).loss);
await backend.sync();
const t0 = performance.now();
for (let i = 0; i < steps; i++) losses.push((await trainStep(model, [batch], opt)).loss);
await backend.sync();
const s = (performance.now() - t0) / 1000;

let profile: Record<string, unknown> | undefined;
if (process.env.PROFILE === '1') {
  // CPU wall time of each phase of trainStep (same calls as train.ts's trainStep).
  const phases: Record<string, number> = {};
  let tp = performance.now();
  const mark = (name: string) => {
    const now = performance.now();
    phases[name] = now - tp;
    tp = now;
  };
  const stage = model.wholeModel(B, T);
  model.zeroGrad();
  const lossT = stage.forward(0, null, batch);
  mark('recordForward');
  const lossRead = backend.read(lossT);
  stage.backward(0, null, 1 / (B * T));
  mark('recordBackward');
  await lossRead;
  mark('waitLoss');
  const norm = Math.sqrt(await backend.globalNormSquared(model.grads, model.layout.totalLength));
  mark('gradNorm');
  opt.step(model.params, model.grads, norm > 1 ? 1 / norm : 1);
  await backend.flush();
  mark('recordOptimizer');
  await backend.sync();
  mark('finalSync');
  // GPU time of every pass of one whole step.
  const profiler = PassProfiler.create(backend.ctx);
  backend.ctx.profiler = profiler;
  const tg = performance.now();
  await trainStep(model, [batch], opt);
  await backend.sync();
  const wallMs = performance.now() - tg;
  backend.ctx.profiler = null;
  const report = await profiler.collect();
  const sum = summarizeProfile(report);
  // Idle GPU time between consecutive passes (copies, clears, barriers, CPU-bound submits).
  const gaps = report.passes.slice(1).map((p, i) => ({ ms: (p.start - report.passes[i]!.end) / 1e6, after: report.passes[i]!.label, before: p.label }));
  const gapBuckets = { under10us: 0, under100us: 0, under1ms: 0, over1ms: 0 };
  for (const g of gaps) {
    if (g.ms < 0.01) gapBuckets.under10us += g.ms;
    else if (g.ms < 0.1) gapBuckets.under100us += g.ms;
    else if (g.ms < 1) gapBuckets.under1ms += g.ms;
    else gapBuckets.over1ms += g.ms;
  }
  const topGaps = gaps.sort((a, b) => b.ms - a.ms).slice(0, 15);
  profile = { cpuPhasesMs: phases, wallMs, gpuSpanMs: sum.spanMs, gpuBusyMs: sum.busyMs, passes: report.passes.length, dropped: report.dropped, gapBuckets, topGaps, byLabel: sum.byLabel.slice(0, 60) };
}
console.log(
  JSON.stringify({
    impl: 'swarmgrad-webgpu',
    attention: attnImpl,
    matmulPrecision: precision,
    config: cfg,
    B,
    T,
    warmupSteps: warmup,
    steps,
    tokensPerS: (steps * B * T) / s,
    msPerStep: (1000 * s) / steps,
    lossFirst: losses[0],
    lossLast: losses[losses.length - 1],
    losses,
    params: model.numParams,
    backendBytes: backend.allocatedBytes,
    submitsTotal: backend.submits,
    gradVsFp32,
    submitEveryOps: backend.submitEveryOps,
    opsTotal: backend.ops,
    profile,
  }),
);
process.exit(0);
