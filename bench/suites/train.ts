/**
 * Training throughput in one headless page: train_tokens_per_s_<config> of the peer-core GPT
 * on the `webgpu` backend (SwiftShader here; a real GPU with --gpu), side by side with the
 * `wasm` backend in the same page (ratio = webgpu / wasm). Steps are full training steps:
 * forward, backward, global-norm clipping, AdamW.
 * Options: --configs nano,tiny (default), --ms 3000 (timing window per backend and config),
 * --gpu. The GPT-2 124M figure on a real GPU comes from bench/gpu/train.ts (docs/BENCHMARKS.md).
 */
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, servePages } from '@swarmgrad/peer-core/harness';
import { type BenchSuite, ratio } from '../lib/types.ts';

const CONFIGS = {
  /** GPT_PRESETS.nano at B=4, T=16. */
  nano: { cfg: { vocabSize: 64, contextLength: 16, nLayer: 2, nHead: 2, nEmbd: 32 }, B: 4, T: 16 },
  /** A byte-level model: V=256, 2 layers, 4 heads, C=64, B=4, T=64. */
  tiny: { cfg: { vocabSize: 256, contextLength: 64, nLayer: 2, nHead: 4, nEmbd: 64 }, B: 4, T: 64 },
} as const;

const suite: BenchSuite = {
  name: 'train',
  description: 'GPT training tokens/s: webgpu backend vs wasm backend, in one headless page',
  async run({ options, env, log }) {
    const names = (options.configs ?? 'nano,tiny').split(',') as Array<keyof typeof CONFIGS>;
    for (const n of names) if (!CONFIGS[n]) throw new Error(`unknown config '${n}'; configs: ${Object.keys(CONFIGS).join(', ')}`);
    const ms = Number(options.ms ?? 3000);
    const server = await servePages(fileURLToPath(new URL('../pages/', import.meta.url)));
    const browser = await launchBrowser({ swiftshader: options.gpu !== 'true' });
    try {
      const { page, problems } = await openPage(browser, `${server.url}train.html`);
      await page.waitForFunction(() => 'swarmgradTrainBench' in window, null, { timeout: 60_000 });
      env.device = `chromium ${browser.version()} / ${await page.evaluate(() => window.swarmgradTrainBench.adapter())}`;
      const out = [];
      for (const name of names) {
        const { cfg, B, T } = CONFIGS[name];
        const gpu = await page.evaluate(([c, b, t, m]) => window.swarmgradTrainBench.webgpu(c, b, t, m), [cfg, B, T, ms] as const);
        const wasm = await page.evaluate(([c, b, t, m]) => window.swarmgradTrainBench.wasm(c, b, t, m), [cfg, B, T, ms] as const);
        if (!Number.isFinite(gpu.lastLoss)) throw new Error(`${name}: webgpu loss is ${gpu.lastLoss}`);
        log(`${name}: webgpu ${gpu.tokensPerS.toFixed(0)} tok/s (${gpu.steps} steps), wasm ${wasm.tokensPerS.toFixed(0)} tok/s (${wasm.steps} steps)`);
        out.push({
          name: `train_tokens_per_s_${name}`,
          value: gpu.tokensPerS,
          unit: 'tokens/s (higher is better)',
          anchor: 'wasm backend (same page)',
          anchorValue: wasm.tokensPerS,
          ratio: ratio(gpu.tokensPerS, wasm.tokensPerS),
        });
      }
      if (problems.errors.length) throw new Error(`bench page errors: ${problems.errors.join('; ')}`);
      return out;
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
export default suite;
