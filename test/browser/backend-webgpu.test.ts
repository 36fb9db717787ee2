/**
 * The peer-core `webgpu` backend in headless Chromium (SwiftShader WebGPU here): a tiny GPT
 * gives the same loss and parameter gradients as on the `cpu` reference backend (unfused
 * attention) with fused (flash, the default) and unfused attention on the GPU (vocabularies
 * that take the blocked and the scalar matmul paths), trains (loss falls on a learnable
 * batch), and after the first steps a step creates no new pipelines, uniforms, bind groups or
 * pool buffers and needs only a few command buffers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { freshSeed } from '@swarmgrad/peer-core/reference';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradBackendTest', { path: 'backend.html' });
});

afterAll(() => t?.close());

describe('webgpu backend: tiny GPT vs the cpu backend', () => {
  const configs = [
    { cfg: { vocabSize: 37, contextLength: 12, nLayer: 2, nHead: 2, nEmbd: 16 }, B: 2, T: 11 },
    { cfg: { vocabSize: 64, contextLength: 16, nLayer: 1, nHead: 4, nEmbd: 32 }, B: 3, T: 16 },
  ];
  for (const { cfg, B, T } of configs) {
    for (const attention of ['fused', 'unfused'] as const) {
      it(`same loss and gradients (${attention} attention): ${JSON.stringify(cfg)} B=${B} T=${T}`, async () => {
        const seed = freshSeed();
        const r = await t.page.evaluate(([c, b, t, s, a]) => window.swarmgradBackendTest.compare(c, b, t, s, a), [cfg, B, T, seed, attention] as const);
        expect(Math.abs(r.gpuLoss - r.cpuLoss), `seed ${seed}: gpu ${r.gpuLoss} cpu ${r.cpuLoss}`).toBeLessThan(1e-4 * Math.max(1, r.cpuLoss));
        expect(r.grads.ok, `seed ${seed}: ${r.grads.message}`).toBe(true);
      });
    }
  }

  it('trains: loss falls, and steady-state steps create nothing and submit few command buffers', async () => {
    const seed = freshSeed();
    const cfg = { vocabSize: 32, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 32 };
    const { losses, stats } = await t.page.evaluate(([c, s]) => window.swarmgradBackendTest.train(c, 4, 16, 30, s), [cfg, seed] as const);
    expect(losses[0]).toBeGreaterThan(Math.log(32) * 0.8);
    expect(losses.at(-1)!, `seed ${seed}: losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(losses[0]! * 0.5);
    // After warm-up (first steps compile pipelines; AdamW's per-step uniform is cached by content
    // and changes with the step number), pipelines, bind groups and pool buffers stay constant.
    const [a, b] = [stats[5]!, stats.at(-1)!];
    expect(b.pipelines).toBe(a.pipelines);
    expect(b.poolBuffers).toBe(a.poolBuffers);
    expect(b.bindGroups).toBe(a.bindGroups);
    // A step submits at its read-backs and optimizer writes (<= 6), plus one command buffer per
    // submitEveryOps ops recorded (so the GPU starts while the CPU records the rest).
    expect(b.opsPerStep).toBeGreaterThan(0);
    expect(b.submitsPerStep).toBeLessThanOrEqual(6 + Math.ceil(b.opsPerStep / b.submitEveryOps));
  });

  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
