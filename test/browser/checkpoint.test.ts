/**
 * safetensors checkpoints in the browser, on each browser backend (webgpu on SwiftShader, wasm):
 *  - the Hugging Face-written tiny GPT-2 fixture (scripts/fixtures/make_gpt2_fixture.py) loads
 *    in Chromium and reproduces the oracle's loss, logits and every parameter gradient;
 *  - a checkpoint written in the browser is read in Node with the same names, shapes and values
 *    (bit-exact), and a Node-written checkpoint loads in the browser (browser ⇄ Node both ways);
 *  - a file that does not fit the model fails with CheckpointMismatchError and leaves the model
 *    untouched.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, type TestPage } from '@swarmgrad/peer-core/harness';
import { readSafetensors, writeSafetensors } from '../../peer-core/src/checkpoint/index.ts';
import { mulberry32 } from '@swarmgrad/peer-core/reference';

const fixture = (f: string) => new Uint8Array(readFileSync(new URL(`../../peer-core/test/fixtures/${f}`, import.meta.url)));
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const info = JSON.parse(new TextDecoder().decode(fixture('gpt2-tiny.json'))) as { config: { n_head: number }; batch: { B: number; T: number } };
const modelBytes = fixture('gpt2-tiny.safetensors');
const oracleBytes = fixture('gpt2-tiny-oracle.safetensors');
/** The HF file's names carry a `transformer.` prefix that our writer does not. */
const bare = (name: string) => name.replace(/^transformer\./, '');

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage(fileURLToPath(new URL('./pages/', import.meta.url)), 'swarmgradCheckpointTest', { path: 'checkpoint.html' });
});

afterAll(() => t?.close());

for (const backend of ['webgpu', 'wasm'] as const) {
  describe(`checkpoints in the browser: ${backend} backend`, () => {
    it('the Hugging Face fixture reproduces the oracle loss, logits and gradients', async () => {
      const { B, T } = info.batch;
      const r = await t.page.evaluate(([be, m, o, nh, b, tt]) => window.swarmgradCheckpointTest.oracle(be, m, o, nh, b, tt), [backend, b64(modelBytes), b64(oracleBytes), info.config.n_head, B, T] as const);
      expect(Math.abs(r.loss - r.wantLoss), `loss ${r.loss} vs HF ${r.wantLoss}`).toBeLessThan(1e-4 + 1e-4 * Math.abs(r.wantLoss));
      expect(r.logits.ok, `logits: ${r.logits.message}`).toBe(true);
      expect(r.grads.length).toBeGreaterThan(0);
      for (const g of r.grads) expect(g.ok, `grad ${g.name}: ${g.message}`).toBe(true);
    });

    it('a browser-written checkpoint reads in Node bit-exactly (same names, shapes, values)', async () => {
      const out = Buffer.from(await t.page.evaluate(([be, m, nh]) => window.swarmgradCheckpointTest.resave(be, m, nh, 1), [backend, b64(modelBytes), info.config.n_head] as const), 'base64');
      const got = readSafetensors(new Uint8Array(out));
      const want = readSafetensors(modelBytes);
      expect(got.metadata.written_by).toBe('checkpoint.page.ts');
      expect(JSON.parse(got.metadata.swarmgrad_config!)).toMatchObject({ nHead: info.config.n_head });
      // every parameter of the fixture is in the browser's file with the same shape and bits
      const params = [...want.tensors.keys()].filter((n) => got.tensors.has(bare(n)));
      expect(params.length).toBe(got.tensors.size);
      for (const name of params) {
        const a = want.tensors.get(name)!;
        const b = got.tensors.get(bare(name))!;
        expect(b.shape, name).toEqual(a.shape);
        expect(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength).equals(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)), `${name} differs`).toBe(true);
      }
    });

    it('a Node-written checkpoint loads in the browser with its values', async () => {
      // Node writes fresh random values under the fixture's names and shapes (no metadata, so
      // the browser must take the config from the shapes plus nHead).
      const src = readSafetensors(modelBytes);
      const rnd = mulberry32((Math.random() * 2 ** 31) | 0);
      const mine = new Map<string, { shape: number[]; data: Float32Array }>();
      for (const [name, tensor] of src.tensors) {
        if (!(tensor.data instanceof Float32Array)) continue;
        mine.set(bare(name), { shape: tensor.shape, data: Float32Array.from(tensor.data, () => rnd() - 0.5) });
      }
      const written = writeSafetensors(mine);
      // The browser loads it, doubles every value and saves: Node must read back exactly 2x.
      const out = Buffer.from(await t.page.evaluate(([be, m, nh]) => window.swarmgradCheckpointTest.resave(be, m, nh, 2), [backend, b64(written), info.config.n_head] as const), 'base64');
      const back = readSafetensors(new Uint8Array(out)).tensors;
      expect(back.size).toBe(mine.size);
      for (const [name, want] of mine) {
        const got = back.get(name)!.data as Float32Array;
        expect(got.length, name).toBe(want.data.length);
        let bad = -1;
        for (let i = 0; i < got.length && bad < 0; i++) if (got[i] !== Math.fround(2 * want.data[i]!)) bad = i;
        expect(bad, `${name}[${bad}]`).toBe(-1);
      }
    });

    it('a file that does not fit the model throws CheckpointMismatchError and changes nothing', async () => {
      const r = await t.page.evaluate(([be, m]) => window.swarmgradCheckpointTest.mismatch(be, m), [backend, b64(modelBytes)] as const);
      expect(r.error).toMatch(/^CheckpointMismatchError: /);
      expect(r.unchanged).toBe(true);
    });
  });
}

describe('checkpoint page', () => {
  it('leaves no console errors', () => {
    expect(t.problems.errors).toEqual([]);
  });
});
