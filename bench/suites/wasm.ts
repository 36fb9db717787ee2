/**
 * WASM kernel throughput in Node: our AssemblyScript SIMD matmul (@swarmgrad/wasm) in GFLOP/s
 * against the plain-TS reference matmul measured side by side in the same run, at a few sizes.
 * Result names: wasm_matmul_fp32_<n> (n×n×n, ratio = ours / reference, higher is better), and
 * wasm_train_tokens_per_s_tiny: the shared tiny training recipe (train/recipe.ts, Moby Dick, char
 * level) on the wasm backend against the cpu reference backend in the same run.
 * Both comparisons interleave ours and the anchor in time, and time each call by this process's
 * CPU time (process.cpuUsage) unless --clock wall: on a shared, oversubscribed machine wall time
 * mostly measures the other processes (any call longer than a scheduler slice is preempted),
 * while CPU time of this single-threaded work is what the kernels cost. Single-threaded.
 * Options: --sizes 128,256,512 (default); --minMs 1500 (time per size); --variant
 * simd|relaxed-simd (default: the fastest the engine supports; relaxed-simd = fused multiply-add);
 * --rounds 12 (training rounds of 1 cpu step and 4 wasm steps); --clock cpu|wall (default cpu).
 */
import { createWasmKernelsSync, type WasmVariant } from '@swarmgrad/wasm';
import { matmulForward, randomUniform } from '@swarmgrad/peer-core/reference';
import { type Backend, createCpuBackend } from '../../peer-core/src/backend/index.ts';
import { createWasmBackendSync } from '../../peer-core/src/backend/wasm/index.ts';
import { TokenDataset } from '../../peer-core/src/data/index.ts';
import { loadCorpusText } from '../../peer-core/src/data/node.ts';
import { GPT } from '../../peer-core/src/model/index.ts';
import { mulberry32 } from '../../peer-core/src/ops/reference/index.ts';
import { CharTokenizer } from '../../peer-core/src/tokenizer/index.ts';
import { AdamW, TINY_RECIPE, trainStep } from '../../peer-core/src/train/index.ts';
import { type BenchSuite, ratio } from '../lib/types.ts';

/**
 * Best time (ms) of each of `fns` over rounds that run each once, interleaved, until `minMs`
 * has passed and at least 3 rounds ran, after one warm-up round: on a shared machine both
 * sides then see the same background load.
 */
function bestOfInterleaved(now: () => number, minMs: number, fns: Array<() => void>): number[] {
  for (const f of fns) f();
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  const t0 = now();
  for (let round = 0; now() - t0 < minMs || round < 3; round++) {
    fns.forEach((f, i) => {
      const t = now();
      f();
      best[i] = Math.min(best[i]!, now() - t);
    });
  }
  return best;
}

/** Milliseconds of CPU time (user + system) this process has used. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const suite: BenchSuite = {
  name: 'wasm',
  description: 'WASM SIMD matmul vs the plain TS reference, Node, single thread',
  async run({ options, env, log }) {
    const sizes = (options.sizes ?? '128,256,512').split(',').map(Number);
    const minMs = Number(options.minMs ?? 1500);
    const k = createWasmKernelsSync({ variant: options.variant as WasmVariant | undefined });
    const clock = options.clock === 'wall' ? 'wall' : 'cpu';
    const now = clock === 'wall' ? () => performance.now() : cpuMs;
    env.device = `node ${process.version} wasm ${k.variant} (single thread)`;
    env.clock = clock === 'wall' ? 'wall time' : 'process CPU time (process.cpuUsage)';
    const out = [];
    for (const n of sizes) {
      const a = randomUniform(n * n, 1);
      const b = randomUniform(n * n, 2);
      const shape = { M: n, K: n, N: n };
      const [ta, tb, tc] = [k.fromArray(a), k.fromArray(b), k.alloc(n * n)];
      const flops = 2 * n * n * n;
      const c = new Float32Array(n * n);
      const [msOurs, msRef] = bestOfInterleaved(now, minMs, [() => k.matmulForward(tc, ta, tb, null, shape), () => matmulForward(c, a, b, null, shape)]);
      const ours = flops / (msOurs! * 1e6);
      const anchor = flops / (msRef! * 1e6);
      log(`matmul ${n}: wasm ${ours.toFixed(2)} GFLOP/s, TS reference ${anchor.toFixed(2)} GFLOP/s`);
      out.push({ name: `wasm_matmul_fp32_${n}`, value: ours, unit: 'GFLOP/s (higher is better)', anchor: 'plain TS reference matmul (same run)', anchorValue: anchor, ratio: ratio(ours, anchor) });
      for (const t of [ta, tb, tc]) k.free(t);
    }

    // the shared tiny recipe's model and batches (train/recipe.ts), stepped on both backends
    const rounds = Number(options.rounds ?? 12);
    const text = loadCorpusText('moby-dick', { maxChars: 300_000 });
    const ds = TokenDataset.fromText(text, CharTokenizer.fromText(text));
    const r = TINY_RECIPE;
    const config = { vocabSize: ds.vocabSize, contextLength: r.T, nLayer: r.nLayer, nHead: r.nHead, nEmbd: r.nEmbd };
    const trainer = (be: Backend) => {
      const model = new GPT(be, config, { seed: r.seed });
      const opt = new AdamW(be, model.layout.totalLength, { lr: r.lr });
      const rand = mulberry32(r.seed + 1);
      let ms = 0;
      let steps = 0;
      return {
        /** One train step; timed unless it is the warm-up. */
        async step(timed = true) {
          const b = ds.sampleBatch('train', r.B, r.T, rand);
          const t = now();
          await trainStep(model, [b], opt);
          await be.sync();
          if (!timed) return;
          ms += now() - t;
          steps++;
        },
        tokensPerSecond: () => (steps * r.B * r.T) / (ms / 1000),
      };
    };
    const wasm = trainer(createWasmBackendSync({ variant: k.variant }));
    const cpu = trainer(createCpuBackend());
    await wasm.step(false);
    await cpu.step(false);
    for (let i = 0; i < rounds; i++) {
      await cpu.step();
      for (let j = 0; j < 4; j++) await wasm.step();
    }
    const [tw, tc] = [wasm.tokensPerSecond(), cpu.tokensPerSecond()];
    log(`tiny training: wasm ${tw.toFixed(0)} tokens/s, cpu ${tc.toFixed(0)} tokens/s`);
    out.push({
      name: 'wasm_train_tokens_per_s_tiny',
      value: tw,
      unit: 'tokens/s (higher is better)',
      anchor: 'cpu reference backend, same recipe (interleaved, same run)',
      anchorValue: tc,
      ratio: ratio(tw, tc),
    });
    return out;
  },
};
export default suite;
