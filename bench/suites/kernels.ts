/**
 * Kernel throughput in one headless page (SwiftShader WebGPU here; a real GPU elsewhere).
 * matmul_fp32_<n>: our WGSL matmul in GFLOP/s, side by side with an anchor measured in the
 * same page. Options: --sizes 256,512 (default 128,256,512 under SwiftShader).
 */
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, servePages } from '@swarmgrad/peer-core/harness';
import { type BenchSuite, ratio } from '../lib/types.ts';

const suite: BenchSuite = {
  name: 'kernels',
  description: 'WGSL kernel throughput vs anchors, in one headless page',
  async run({ options, env, log }) {
    const sizes = (options.sizes ?? '128,256,512').split(',').map(Number);
    const server = await servePages(fileURLToPath(new URL('../pages/', import.meta.url)));
    const browser = await launchBrowser();
    try {
      const { page } = await openPage(browser, server.url);
      await page.waitForFunction(() => 'swarmgradBench' in window, null, { timeout: 60_000 });
      env.device = `chromium ${browser.version()} / ${await page.evaluate(() => window.swarmgradBench.adapter())}`;
      const out = [];
      for (const n of sizes) {
        const ours = await page.evaluate((m) => window.swarmgradBench.matmulOurs(m), n);
        const anchor = await page.evaluate((m) => window.swarmgradBench.matmulReference(m), n);
        log(`matmul ${n}: ours ${ours.toFixed(2)} GFLOP/s, TS reference ${anchor.toFixed(2)} GFLOP/s`);
        out.push({ name: `matmul_fp32_${n}`, value: ours, unit: 'GFLOP/s (higher is better)', anchor: 'plain TS reference (CPU, same page)', anchorValue: anchor, ratio: ratio(ours, anchor) });
      }
      return out;
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
export default suite;
