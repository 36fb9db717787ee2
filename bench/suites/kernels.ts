/**
 * Kernel throughput in one headless page (SwiftShader WebGPU here; a real GPU elsewhere).
 * matmul_fp32_<n>: our WGSL matmul (variant auto) in GFLOP/s, side by side with tfjs-webgpu
 * 4.22's matmul measured in the same page (ratio = ours / tfjs); every size is spot-checked
 * against float64 dot products. Sizes below --fixed-from are timed in windows (--ms, batches
 * grown until the window is filled); sizes from it on, too slow for that under SwiftShader
 * (4096³ takes minutes per tfjs product), as single products after a warm-up at 512: ours,
 * then tfjs, then ours again (ours = the mean of its two, bracketing tfjs in time).
 * Options: --sizes (default 256,1024,2048,4096), --ms (window, default 1500 under SwiftShader,
 * 1000 on a GPU), --fixed-from (default 2048 under SwiftShader, never on a GPU), --variants
 * v1,v2 (also time these variants, results matmul_fp32_<n>_<variant>), --gpu (launch Chromium
 * on the real GPU instead of SwiftShader), --cpu-time (Linux, SwiftShader: instead of wall
 * clock, GFLOP per CPU-second of Chromium's GPU process, where SwiftShader computes; steadier
 * than wall clock on a shared machine; results matmul_fp32_cpu_<n>, products after a warm-up).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launchBrowser, openPage, servePages } from '@swarmgrad/peer-core/harness';
import type { MatmulVariant } from '@swarmgrad/gpu-shaders';
import { type BenchSuite, ratio } from '../lib/types.ts';

/** CPU seconds (user + system) so far of the GPU processes of the Chromium this process launched. */
function gpuProcessCpuSeconds(): number {
  const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ours = (pid: number) => {
    for (let p = pid, i = 0; i < 16 && p > 1; i++) {
      p = Number(stat(p)[1]);
      if (p === process.pid) return true;
    }
    return false;
  };
  let ticks = 0;
  let found = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('--type=gpu-process') || !ours(Number(d))) continue;
      const f = stat(Number(d));
      ticks += Number(f[11]) + Number(f[12]);
      found++;
    } catch {
      // the process ended while we read it: not ours to count
    }
  }
  if (!found) throw new Error('--cpu-time: no GPU process of our Chromium found in /proc');
  return ticks / 100; // USER_HZ
}

const suite: BenchSuite = {
  name: 'kernels',
  description: 'WGSL matmul vs tfjs-webgpu 4.22 matmul, in one headless page',
  async run({ options, env, log }) {
    // tfjs has CommonJS dependencies: bundle it to one ESM file the page imports.
    await build({
      entryPoints: [fileURLToPath(new URL('../pages/tfjs-entry.ts', import.meta.url))],
      outfile: fileURLToPath(new URL('../pages/dist/tfjs.js', import.meta.url)),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      logLevel: 'error',
    });
    const server = await servePages(fileURLToPath(new URL('../pages/', import.meta.url)));
    const realGpu = options.gpu === 'true';
    const browser = await launchBrowser({ swiftshader: !realGpu });
    try {
      const { page, problems } = await openPage(browser, server.url);
      await page.waitForFunction(() => 'swarmgradBench' in window, null, { timeout: 60_000 });
      const adapter = await page.evaluate(() => window.swarmgradBench.adapter());
      env.device = `chromium ${browser.version()} / ${adapter}`;
      const swiftshader = /swiftshader/i.test(adapter);
      const sizes = (options.sizes ?? '256,1024,2048,4096').split(',').map(Number);
      const fixedFrom = Number(options['fixed-from'] ?? (swiftshader ? 2048 : Number.POSITIVE_INFINITY));
      const variants = (options.variants ?? '').split(',').filter(Boolean) as MatmulVariant[];
      const ms = Number(options.ms ?? (swiftshader ? 1500 : 1000));
      const out = [];
      if (options['cpu-time'] === 'true') {
        for (const n of sizes) {
          const perCpuSecond = async (impl: MatmulVariant | 'tfjs') => {
            await page.evaluate(([m, i]) => window.swarmgradBench.runFixed(m, 1, i), [n, impl] as const); // warm-up
            const reps = Math.max(1, Math.round(2 ** 27 / n ** 3) * (impl === 'tfjs' ? 1 : 8));
            const c0 = gpuProcessCpuSeconds();
            const r = await page.evaluate(([m, k, i]) => window.swarmgradBench.runFixed(m, k, i, { warmup: false, check: i === 'tfjs' ? 0 : 8 }), [n, reps, impl] as const);
            const cpu = gpuProcessCpuSeconds() - c0;
            if (impl !== 'tfjs' && !((r.worst ?? Number.POSITIVE_INFINITY) <= 1)) throw new Error(`matmul ${n}: spot check failed (worst error ${r.worst} of tolerance)`);
            return (2 * n ** 3 * reps) / cpu / 1e9;
          };
          // ours, tfjs, ours: ours is the mean of the two runs bracketing tfjs
          const o1 = await perCpuSecond('auto');
          const tf = await perCpuSecond('tfjs');
          const o2 = await perCpuSecond('auto');
          const ours = (o1 + o2) / 2;
          log(`matmul ${n}: ours ${o1.toFixed(2)} / ${o2.toFixed(2)}, tfjs-webgpu ${tf.toFixed(2)} GFLOP per GPU-process CPU-second (${(ours / tf).toFixed(2)}x)`);
          out.push({ name: `matmul_fp32_cpu_${n}`, value: ours, unit: 'GFLOP per CPU-second of the GPU process (higher is better)', anchor: 'tfjs-webgpu 4.22 tf.matMul (same page)', anchorValue: tf, ratio: ratio(ours, tf) });
        }
        if (problems.errors.length) throw new Error(`bench page errors: ${problems.errors.join('; ')}`);
        return out;
      }
      for (const n of sizes) {
        let ours: number;
        let tfjs: number;
        if (n >= fixedFrom) {
          await page.evaluate(() => window.swarmgradBench.runFixed(512, 1, 'auto'));
          await page.evaluate(() => window.swarmgradBench.runFixed(512, 1, 'tfjs'));
          const o1 = await page.evaluate((m) => window.swarmgradBench.runFixed(m, 1, 'auto', { warmup: false, check: 16 }), n);
          if (!((o1.worst ?? Number.POSITIVE_INFINITY) <= 1)) throw new Error(`matmul ${n}: spot check failed (worst error ${o1.worst} of tolerance)`);
          log(`matmul ${n}: ours ${o1.gflops.toFixed(2)} GFLOP/s (1 product, ${(o1.ms / 1000).toFixed(1)} s)`);
          const t1 = await page.evaluate((m) => window.swarmgradBench.runFixed(m, 1, 'tfjs', { warmup: false }), n);
          log(`matmul ${n}: tfjs-webgpu ${t1.gflops.toFixed(2)} GFLOP/s (1 product, ${(t1.ms / 1000).toFixed(1)} s)`);
          const o2 = await page.evaluate((m) => window.swarmgradBench.runFixed(m, 1, 'auto', { warmup: false }), n);
          log(`matmul ${n}: ours again ${o2.gflops.toFixed(2)} GFLOP/s (${(o2.ms / 1000).toFixed(1)} s)`);
          ours = (o1.gflops + o2.gflops) / 2;
          tfjs = t1.gflops;
        } else {
          const worst = await page.evaluate((m) => window.swarmgradBench.spotCheck(m), n);
          if (!(worst <= 1)) throw new Error(`matmul ${n}: spot check failed (worst error ${worst} of tolerance)`);
          ours = await page.evaluate(([m, t]) => window.swarmgradBench.matmulOurs(m, t), [n, ms] as const);
          tfjs = await page.evaluate(([m, t]) => window.swarmgradBench.matmulTfjs(m, t), [n, ms] as const);
        }
        for (const v of variants) {
          const w = await page.evaluate(([m, vv]) => window.swarmgradBench.spotCheck(m, vv), [n, v] as const);
          if (!(w <= 1)) throw new Error(`matmul ${n} ${v}: spot check failed (worst error ${w} of tolerance)`);
          const g = await page.evaluate(([m, t, vv]) => window.swarmgradBench.matmulOurs(m, t, vv), [n, ms, v] as const);
          log(`matmul ${n} variant ${v}: ${g.toFixed(2)} GFLOP/s (${(g / tfjs).toFixed(2)}x tfjs)`);
          out.push({ name: `matmul_fp32_${n}_${v}`, value: g, unit: 'GFLOP/s (higher is better)', anchor: 'tfjs-webgpu 4.22 tf.matMul (same page)', anchorValue: tfjs, ratio: ratio(g, tfjs) });
        }
        log(`matmul ${n}: ours ${ours.toFixed(2)} GFLOP/s, tfjs-webgpu ${tfjs.toFixed(2)} GFLOP/s (${(ours / tfjs).toFixed(2)}x)`);
        out.push({ name: `matmul_fp32_${n}`, value: ours, unit: 'GFLOP/s (higher is better)', anchor: 'tfjs-webgpu 4.22 tf.matMul (same page)', anchorValue: tfjs, ratio: ratio(ours, tfjs) });
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
