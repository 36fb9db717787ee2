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
 */
import { gpu } from './dawn.ts';
import { matmulTuning } from '@swarmgrad/gpu-shaders';
import { createWebGpuBackend } from '../../peer-core/src/backend/webgpu/index.ts';
import { GPT_PRESETS, type GPTConfig } from '../../peer-core/src/model/config.ts';
import { GPT } from '../../peer-core/src/model/gpt.ts';
import { AdamW } from '../../peer-core/src/train/optimizer.ts';
import { type Batch, trainStep } from '../../peer-core/src/train/train.ts';
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
const attnImpl = process.env.ATTENTION_IMPL ?? 'flash';
if (attnImpl !== 'flash' && attnImpl !== 'matmul') throw new Error(`ATTENTION_IMPL must be flash or matmul, got ${attnImpl}`);
const backend = await createWebGpuBackend({ gpu, attention: attnImpl === 'flash' ? 'fused' : 'unfused' });
const model = new GPT(backend, cfg, { seed: 1 });
const opt = new AdamW(backend, model.layout.totalLength, { lr: 3e-4, weightDecay: 0.1 });
const r = mulberry32(7);
const tokens = Int32Array.from({ length: B * T + 1 }, () => Math.floor(r() * cfg.vocabSize));
const batch: Batch = { B, T, tokens: tokens.subarray(0, B * T), targets: tokens.slice(1) };

const losses: number[] = [];
for (let i = 0; i < warmup; i++) losses.push((await trainStep(model, [batch], opt)).loss);
await backend.sync();
const t0 = performance.now();
for (let i = 0; i < steps; i++) losses.push((await trainStep(model, [batch], opt)).loss);
await backend.sync();
const s = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    impl: 'swarmgrad-webgpu',
    attention: attnImpl,
    config: cfg,
    B,
    T,
    steps,
    tokensPerS: (steps * B * T) / s,
    msPerStep: (1000 * s) / steps,
    losses,
    params: model.numParams,
    backendBytes: backend.allocatedBytes,
    submitsTotal: backend.submits,
  }),
);
process.exit(0);
