/**
 * Browser side of the checkpoint tests: safetensors read and write inside Chromium. Loads the
 * Hugging Face-written GPT-2 fixture into a model on a browser backend (webgpu on SwiftShader,
 * or wasm), reproduces the oracle's loss, logits and gradients, and saves checkpoints that the
 * Node side reads back. Bytes cross the page boundary as base64.
 */
// imported by path: the package root also exports the network stack, which this page does not need
import type { Backend } from '../../../peer-core/src/backend/types.ts';
import { createWasmBackend } from '../../../peer-core/src/backend/wasm/index.ts';
import { createWebGpuBackend } from '../../../peer-core/src/backend/webgpu/index.ts';
import { loadCheckpoint, modelFromCheckpoint, readSafetensors, saveCheckpoint } from '../../../peer-core/src/checkpoint/index.ts';
import { GPT } from '../../../peer-core/src/model/gpt.ts';
import { forwardBackward } from '../../../peer-core/src/train/train.ts';
import { allclose } from '@swarmgrad/peer-core/reference';

type BackendName = 'webgpu' | 'wasm';

const backends = new Map<BackendName, Promise<Backend>>();
function backend(name: BackendName): Promise<Backend> {
  let b = backends.get(name);
  if (!b) {
    b = name === 'webgpu' ? createWebGpuBackend() : createWasmBackend();
    backends.set(name, b);
  }
  return b;
}

function fromB64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toB64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const api = {
  /** The HF fixture on a browser backend: loss, logits and every gradient against the oracle file. */
  async oracle(name: BackendName, modelB64: string, oracleB64: string, nHead: number, B: number, T: number) {
    const be = await backend(name);
    const model = modelFromCheckpoint(be, fromB64(modelB64), { nHead });
    const oracle = readSafetensors(fromB64(oracleB64)).tensors;
    const ids = oracle.get('input_ids')!.data as Int32Array;
    // HF shifts labels = input_ids: position t predicts token t+1; the last position has none.
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? ids[b * T + t + 1]! : -1;
    const loss = await forwardBackward(model, [{ B, T, tokens: Int32Array.from(ids), targets }]);
    const logits = allclose(await be.read(model.wholeModel(B, T).logits(0)), oracle.get('logits')!.data as Float32Array, { atol: 1e-4, rtol: 1e-3 });
    const grads: { name: string; ok: boolean; message: string }[] = [];
    for (const spec of model.layout.specs) {
      const want = oracle.get(`grad.${spec.name}`);
      if (!want) {
        grads.push({ name: spec.name, ok: false, message: 'missing in the oracle file' });
        continue;
      }
      const r = allclose(await be.read(model.grad(spec.name)), want.data as Float32Array, { atol: 2e-5, rtol: 2e-3 });
      grads.push({ name: spec.name, ok: r.ok, message: r.message });
    }
    const wantLoss = (oracle.get('loss')!.data as Float32Array)[0]!;
    model.dispose();
    return { loss, wantLoss, logits: { ok: logits.ok, message: logits.message }, grads };
  },

  /** Loads a checkpoint, optionally takes an SGD-like nudge of the parameters, and saves it again. */
  async resave(name: BackendName, modelB64: string, nHead: number, scale: number) {
    const be = await backend(name);
    const model = modelFromCheckpoint(be, fromB64(modelB64), { nHead });
    if (scale !== 1) {
      const p = await model.getParams();
      for (let i = 0; i < p.length; i++) p[i]! *= scale;
      model.setParams(p);
    }
    const bytes = await saveCheckpoint(model, { written_by: 'checkpoint.page.ts' });
    model.dispose();
    return toB64(bytes);
  },

  /** Loading a file whose shapes do not match the model must throw a named error, not corrupt it. */
  async mismatch(name: BackendName, modelB64: string) {
    const be = await backend(name);
    const model = new GPT(be, { vocabSize: 50, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 32 }, { seed: 7 });
    const before = await model.getParams();
    let error = '';
    try {
      loadCheckpoint(model, fromB64(modelB64));
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const after = await model.getParams();
    let unchanged = before.length === after.length;
    for (let i = 0; unchanged && i < before.length; i++) unchanged = Object.is(before[i], after[i]);
    model.dispose();
    return { error, unchanged };
  },
};

declare global {
  interface Window {
    swarmgradCheckpointTest: typeof api;
  }
}
window.swarmgradCheckpointTest = api;
