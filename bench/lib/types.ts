/** The benchmark result contract shared by every suite (`npm run bench -- <suite> --json FILE`). */

export interface BenchEnv {
  node: string;
  platform: string;
  cpus: number;
  /** Where the numbers come from, e.g. 'chromium 156 / swiftshader' or 'dawn / NVIDIA H200'. */
  device?: string;
  [k: string]: unknown;
}

export interface BenchResult {
  suite: string;
  name: string;
  value: number;
  unit: string;
  /** The system we compare against, measured in the same run (e.g. 'tfjs-webgpu 4.22'). */
  anchor?: string;
  anchorValue?: number;
  /** ours / anchor, oriented so that higher is better (stated in `unit`). */
  ratio?: number;
  env: BenchEnv;
}

export interface SuiteContext {
  /** Free-form options from the command line (`--key value`), after the suite name. */
  options: Record<string, string>;
  env: BenchEnv;
  log(msg: string): void;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(ctx: SuiteContext): Promise<Omit<BenchResult, 'suite' | 'env'>[]>;
}

/** Ratio oriented so higher is better: for "lower is better" units pass `lowerIsBetter`. */
export function ratio(ours: number, anchor: number, lowerIsBetter = false): number {
  return lowerIsBetter ? anchor / ours : ours / anchor;
}
