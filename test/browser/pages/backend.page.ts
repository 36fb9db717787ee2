/**
 * Browser side of the webgpu backend tests: a tiny GPT on the `webgpu` backend and the same
 * model (same seed, same batch) on the `cpu` reference backend; returns the loss and gradient
 * comparison, a short training run's losses, and the GPU-object counters of repeated steps.
 */
// imported by path: the package root also exports the network stack, which this page does not need
import { createCpuBackend } from '../../../peer-core/src/backend/cpu/index.ts';
import type { AttentionKind, Backend } from '../../../peer-core/src/backend/types.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../../../peer-core/src/backend/webgpu/index.ts';
import { GPT } from '../../../peer-core/src/model/gpt.ts';
import { AdamW } from '../../../peer-core/src/train/optimizer.ts';
import { type Batch, forwardBackward, trainStep } from '../../../peer-core/src/train/train.ts';
import { allclose, mulberry32 } from '@swarmgrad/peer-core/reference';

interface Cfg {
  vocabSize: number;
  contextLength: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

let gpuBackend: Promise<WebGpuBackend> | undefined;
const webgpu = () => (gpuBackend ??= createWebGpuBackend());

/** A batch whose targets follow a fixed rule (next = (3*tok + 1) % V) so a model can learn it. */
function batch(B: number, T: number, V: number, seed: number): Batch {
  const r = mulberry32(seed);
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let tok = Math.floor(r() * V);
    for (let t = 0; t < T; t++) {
      tokens[b * T + t] = tok;
      const next = (3 * tok + 1) % V;
      targets[b * T + t] = next;
      tok = next;
    }
  }
  targets[T - 1] = -1; // one position without a target
  return { B, T, tokens, targets };
}

async function lossAndGrads(backend: Backend, cfg: Cfg, seed: number, b: Batch) {
  const model = new GPT(backend, cfg, { seed });
  const loss = await forwardBackward(model, [b]);
  const grads = await model.getGrads();
  model.dispose();
  return { loss, grads };
}

const api = {
  /** `attention`: the kind the webgpu model runs (the cpu reference stays unfused). */
  async compare(cfg: Cfg, B: number, T: number, seed: number, attention: AttentionKind = 'fused') {
    const b = batch(B, T, cfg.vocabSize, seed + 1);
    const be = await webgpu();
    const kind = be.attention;
    be.attention = attention;
    const gpu = await lossAndGrads(be, cfg, seed, b).finally(() => {
      be.attention = kind;
    });
    const cpu = await lossAndGrads(createCpuBackend(), cfg, seed, b);
    return {
      gpuLoss: gpu.loss,
      cpuLoss: cpu.loss,
      grads: allclose(gpu.grads, cpu.grads, { atol: 2e-5, rtol: 2e-3 }),
    };
  },

  /** Losses of `steps` AdamW steps on one fixed batch (the model should fit it). */
  async train(cfg: Cfg, B: number, T: number, steps: number, seed: number) {
    const backend = await webgpu();
    const model = new GPT(backend, cfg, { seed });
    const opt = new AdamW(backend, model.layout.totalLength, { lr: 1e-2, weightDecay: 0 });
    const b = batch(B, T, cfg.vocabSize, seed + 1);
    const losses: number[] = [];
    const stats: Array<ReturnType<typeof statsOf>> = [];
    const statsOf = () => ({ ...backend.ctx.stats, submitsPerStep: 0, opsPerStep: 0, submitEveryOps: backend.submitEveryOps });
    for (let i = 0; i < steps; i++) {
      const before = backend.submits;
      const opsBefore = backend.ops;
      const r = await trainStep(model, [b], opt, { maxGradNorm: 1 });
      losses.push(r.loss);
      stats.push({ ...statsOf(), submitsPerStep: backend.submits - before, opsPerStep: backend.ops - opsBefore });
    }
    opt.dispose();
    model.dispose();
    return { losses, stats };
  },
};

declare global {
  interface Window {
    swarmgradBackendTest: typeof api;
  }
}
window.swarmgradBackendTest = api;
