/**
 * Browser side of `npm run bench -- train`: training steps (forward, backward, global-norm
 * clipping, AdamW) of the peer-core GPT on the `webgpu` backend and on the `wasm` backend in
 * this same page, on the same random tokens; returns tokens/s of each.
 */
// imported by path: the package root also exports the network stack, which this page does not need
import type { Backend } from '../../peer-core/src/backend/types.ts';
import { createWasmBackend } from '../../peer-core/src/backend/wasm/index.ts';
import { createWebGpuBackend } from '../../peer-core/src/backend/webgpu/index.ts';
import type { GPTConfig } from '../../peer-core/src/model/config.ts';
import { GPT } from '../../peer-core/src/model/gpt.ts';
import { AdamW } from '../../peer-core/src/train/optimizer.ts';
import { type Batch, trainStep } from '../../peer-core/src/train/train.ts';
import { mulberry32 } from '../../peer-core/src/util/random.ts';

async function tokensPerS(backend: Backend, cfg: GPTConfig, B: number, T: number, minMs: number): Promise<{ tokensPerS: number; steps: number; lastLoss: number }> {
  const model = new GPT(backend, cfg, { seed: 1 });
  const opt = new AdamW(backend, model.layout.totalLength, { lr: 1e-3 });
  const r = mulberry32(7);
  const toks = Int32Array.from({ length: B * T + 1 }, () => Math.floor(r() * cfg.vocabSize));
  const batch: Batch = { B, T, tokens: toks.subarray(0, B * T), targets: toks.slice(1) };
  let loss = (await trainStep(model, [batch], opt)).loss; // warm-up: compilation, first allocations
  await backend.sync();
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || steps < 2) {
    loss = (await trainStep(model, [batch], opt)).loss;
    steps++;
  }
  await backend.sync();
  const s = (performance.now() - t0) / 1000;
  opt.dispose();
  model.dispose();
  return { tokensPerS: (steps * B * T) / s, steps, lastLoss: loss };
}

const api = {
  async adapter() {
    const b = await createWebGpuBackend();
    const i = b.ctx.adapterInfo;
    b.dispose();
    return `${i?.vendor ?? '?'} ${i?.architecture ?? ''} ${i?.description ?? ''}`.trim();
  },
  async webgpu(cfg: GPTConfig, B: number, T: number, minMs: number) {
    const backend = await createWebGpuBackend();
    try {
      return await tokensPerS(backend, cfg, B, T, minMs);
    } finally {
      backend.dispose();
    }
  },
  async wasm(cfg: GPTConfig, B: number, T: number, minMs: number) {
    return tokensPerS(await createWasmBackend(), cfg, B, T, minMs);
  },
};

declare global {
  interface Window {
    swarmgradTrainBench: typeof api;
  }
}
window.swarmgradTrainBench = api;
