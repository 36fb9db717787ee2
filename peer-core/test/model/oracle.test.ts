/**
 * Oracle test: a tiny random GPT-2 built by Hugging Face `transformers` (fixture made by
 * scripts/fixtures/make_gpt2_fixture.py) loads through our safetensors reader, and our forward
 * and backward on the cpu backend reproduce its logits, loss and every parameter gradient.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/backend/index.ts';
import { configFromSafetensors, loadCheckpoint, readSafetensors } from '../../src/checkpoint/index.ts';
import { GPT } from '../../src/model/index.ts';
import { forwardBackward } from '../../src/train/index.ts';
import { allclose } from '../../src/ops/reference/index.ts';

const fx = (f: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${f}`, import.meta.url)));

describe('GPT forward/backward vs Hugging Face transformers (fixture)', () => {
  const info = JSON.parse(new TextDecoder().decode(fx('gpt2-tiny.json')));
  const modelBytes = fx('gpt2-tiny.safetensors');
  const oracle = readSafetensors(fx('gpt2-tiny-oracle.safetensors')).tensors;
  const config = configFromSafetensors(modelBytes, info.config.n_head);
  const { B, T } = info.batch as { B: number; T: number };

  it('reads the config the fixture was made with', () => {
    expect(config).toEqual({
      vocabSize: info.config.vocab_size,
      contextLength: info.config.n_positions,
      nLayer: info.config.n_layer,
      nHead: info.config.n_head,
      nEmbd: info.config.n_embd,
    });
  });

  it('matches logits, loss and all gradients', async () => {
    const be = createCpuBackend();
    const model = new GPT(be, config);
    loadCheckpoint(model, modelBytes);
    const ids = oracle.get('input_ids')!.data as Int32Array;
    // HF shifts labels = input_ids: position t predicts token t+1; the last position has none.
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? ids[b * T + t + 1] : -1;
    const loss = await forwardBackward(model, [{ B, T, tokens: ids, targets }]);
    const wantLoss = oracle.get('loss')!.data[0];
    expect(Math.abs(loss - wantLoss), `loss ${loss} vs ${wantLoss}`).toBeLessThan(1e-5 + 1e-5 * Math.abs(wantLoss));

    const logits = await be.read(model.wholeModel(B, T).logits(0));
    const lr = allclose(logits, oracle.get('logits')!.data, { atol: 1e-5, rtol: 1e-4 });
    expect(lr.ok, `logits: ${lr.message}`).toBe(true);

    let checked = 0;
    for (const spec of model.layout.specs) {
      const want = oracle.get(`grad.${spec.name}`);
      expect(want, `oracle has grad.${spec.name}`).toBeTruthy();
      const got = await be.read(model.grad(spec.name));
      const r = allclose(got, want!.data, { atol: 1e-6, rtol: 1e-3 });
      expect(r.ok, `grad ${spec.name}: ${r.message}`).toBe(true);
      checked++;
    }
    expect(checked).toBe(4 + 12 * config.nLayer);
  });
});
