/**
 * The tensor-core matmul's decisions that need no GPU, in Node: it refuses a device without
 * subgroup matrices / shader-f16 / an f16->f32 16x16x16 config with TensorCoreUnavailableError,
 * validates shapes and buffers (KernelInputError), specialises and unrolls its WGSL; and its
 * reference (`matmulF16AccForward`, `f16round`) against independent computations.
 *
 * The kernel's numerics need a GPU with subgroup matrices (SwiftShader has none): they are
 * checked against `matmulF16AccForward` by bench/gpu/matmul-tc.ts on the H200, whose output is
 * recorded in docs/BENCHMARKS.md ("tensor-core path").
 */
import { allclose, f16round, freshSeed, matmulF16AccForward, matmulForward, randomUniform, roundToF16 } from '@swarmgrad/peer-core/reference';
import { describe, expect, it } from 'vitest';
import { KernelInputError } from '../src/errors.ts';
import {
  MATMUL_TC_VARIANTS,
  type SubgroupMatrixConfig,
  TensorCoreUnavailableError,
  chooseMatmulTcVariant,
  encodeMatmulTc,
  matmulTcCode,
  matmulTcEligible,
  matmulTcOnGrid,
  tensorCoreSupport,
  unrollLoops,
  validateMatmulTc,
  workgroupNeeds,
} from '../src/matmul-tc/matmul-tc.ts';
import type { GpuContext } from '../src/context.ts';

/** Stand-in for a GPUBuffer: the wrapper only reads its size before encoding. */
const buf = (floats: number) => ({ size: floats * 4, mapState: 'unmapped' }) as unknown as GPUBuffer;

const F16_F32_16: SubgroupMatrixConfig = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };

/** A context-shaped object with the given features, subgroup-matrix configs and subgroup sizes. */
function fakeCtx(features: string[], configs: SubgroupMatrixConfig[] = [], sg: [number, number] = [32, 32]): GpuContext {
  const adapterInfo = { vendor: 'fake', subgroupMinSize: sg[0], subgroupMaxSize: sg[1], subgroupMatrixConfigs: configs } as unknown as GPUAdapterInfo;
  const device = {
    limits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 49152 },
    createCommandEncoder() {
      throw new Error('no GPU work expected');
    },
  } as unknown as GPUDevice;
  return { features: new Set(features), adapterInfo, device } as unknown as GpuContext;
}

const args = (M: number, K: number, N: number) => ({ M, K, N, a: buf(M * K), b: buf(K * N), out: buf(M * N) });

describe('tensor-core support detection', () => {
  it('refuses a device without the subgroup-matrix and f16 features, naming them', () => {
    const ctx = fakeCtx(['subgroups', 'timestamp-query'], [F16_F32_16]);
    const s = tensorCoreSupport(ctx);
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(/chromium-experimental-subgroup-matrix/);
    expect(s.reason).toMatch(/shader-f16/);
    const enc = {} as GPUCommandEncoder;
    expect(() => encodeMatmulTc(ctx, enc, args(128, 128, 128))).toThrow(TensorCoreUnavailableError);
  });

  it('refuses when only integer or f16-result configs exist', () => {
    const configs: SubgroupMatrixConfig[] = [
      { componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 },
      { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 8, K: 16 },
      { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 16, K: 32 },
    ];
    const ctx = fakeCtx(['chromium-experimental-subgroup-matrix', 'shader-f16'], configs);
    const s = tensorCoreSupport(ctx);
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(/f16->f32 16x16x16/);
    expect(s.configs).toHaveLength(3);
    expect(() => encodeMatmulTc(ctx, {} as GPUCommandEncoder, args(128, 128, 128))).toThrow(/f16->f32 16x16x16/);
  });

  it('refuses a varying subgroup size, and accepts the H200 setup', () => {
    const feats = ['chromium-experimental-subgroup-matrix', 'shader-f16'];
    expect(tensorCoreSupport(fakeCtx(feats, [F16_F32_16], [8, 32])).ok).toBe(false);
    const s = tensorCoreSupport(fakeCtx(feats, [F16_F32_16], [32, 32]));
    expect(s).toMatchObject({ ok: true, subgroupSize: 32 });
  });

  it('refuses a variant whose workgroup exceeds the device limit at this subgroup size', () => {
    const ctx = fakeCtx(['chromium-experimental-subgroup-matrix', 'shader-f16'], [F16_F32_16], [64, 64]);
    // tc128 = 8 subgroups; at 64 lanes that is 512 invocations > 256.
    expect(() => encodeMatmulTc(ctx, {} as GPUCommandEncoder, { ...args(128, 128, 128), variant: 'tc128' })).toThrow(TensorCoreUnavailableError);
  });

  it("refuses a variant whose workgroup memory exceeds the device's limit", () => {
    const ctx = fakeCtx(['chromium-experimental-subgroup-matrix', 'shader-f16'], [F16_F32_16]);
    (ctx.device.limits as { maxComputeWorkgroupStorageSize: number }).maxComputeWorkgroupStorageSize = 16384; // WebGPU's default
    expect(() => encodeMatmulTc(ctx, {} as GPUCommandEncoder, { ...args(128, 128, 128), variant: 'tc128' })).toThrow(/bytes of workgroup memory/);
    // tc128: A 128×(32+8) and B 32×(128+8) f16, double-buffered.
    expect(workgroupNeeds({ BM: 128, BN: 128, BK: 32, SG_M: 32, SG_N: 64 }, 32, false, false)).toEqual({ invocations: 256, bytes: 2 * 2 * (128 * 40 + 32 * 136), fits: true });
    expect(workgroupNeeds({ BM: 64, BN: 64, BK: 32, SG_M: 32, SG_N: 32 }, 256, false, false).fits).toBe(false);
  });
});

describe('validateMatmulTc', () => {
  it('picks 128-tiles only where there are enough of them, on or off the grid', () => {
    expect(validateMatmulTc(args(4096, 4096, 4096))).toBe('tc128');
    expect(validateMatmulTc(args(1024, 1024, 1024))).toBe('tc64');
    expect(chooseMatmulTcVariant({ M: 8192, K: 768, N: 2304 })).toBe('tc128');
    expect(chooseMatmulTcVariant({ M: 8192, K: 768, N: 50257, transB: true })).toBe('tc128');
    expect(chooseMatmulTcVariant({ M: 1000, K: 64, N: 1000 })).toBe('tc64');
  });

  it('takes shapes off the tile grid, compiling edge checks only there', () => {
    expect(validateMatmulTc(args(100, 128, 36))).toBe('tc64');
    expect(matmulTcOnGrid({ M: 128, K: 64, N: 128 }, 'tc64')).toBe(true);
    expect(matmulTcOnGrid({ M: 128, K: 48, N: 128 }, 'tc64')).toBe(false);
    expect(matmulTcOnGrid({ M: 128, K: 64, N: 128 }, 'tc128x256k16')).toBe(false);
    // GPT-2's LM head: N = 50257 is fine when B is (N,K) with K a multiple of 4.
    expect(matmulTcEligible({ M: 8192, K: 768, N: 50257, transB: true })).toBe(true);
    expect(() => validateMatmulTc({ ...args(8192, 768, 50257), transB: true })).not.toThrow();
  });

  it('needs rows of A and B that split into vec4s, naming the dimension', () => {
    expect(() => validateMatmulTc(args(128, 50, 128))).toThrow(KernelInputError);
    expect(() => validateMatmulTc(args(128, 50, 128))).toThrow(/K \(A's row length\)/);
    expect(() => validateMatmulTc(args(128, 64, 131))).toThrow(/N \(B's row length\)/);
    expect(() => validateMatmulTc({ ...args(130, 64, 128), transA: true })).toThrow(/M \(A's row length\)/);
    expect(() => validateMatmulTc({ ...args(128, 66, 128), transB: true })).toThrow(KernelInputError);
  });

  it('rejects bad sizes, small buffers and unknown variants with KernelInputError', () => {
    expect(() => validateMatmulTc({ ...args(64, 64, 64), M: 0 })).toThrow(KernelInputError);
    expect(() => validateMatmulTc({ ...args(64, 64, 64), M: 63.5 })).toThrow(KernelInputError);
    expect(() => validateMatmulTc({ ...args(128, 64, 64), b: buf(64 * 64 - 1) })).toThrow(/buffer b/);
    expect(() => validateMatmulTc({ ...args(128, 64, 64), out: buf(128 * 64 - 1) })).toThrow(/buffer out/);
    expect(() => validateMatmulTc({ ...args(128, 128, 128), variant: 'tc999' as never })).toThrow(/unknown variant/);
  });
});

describe('encodeMatmulTc recording', () => {
  it('dispatches one workgroup per output tile, rounding up off the grid, with edge checks only there', () => {
    const dispatched: number[][] = [];
    const codes: string[] = [];
    const ctx = fakeCtx(['chromium-experimental-subgroup-matrix', 'shader-f16'], [F16_F32_16]) as unknown as Record<string, unknown>;
    Object.assign(ctx, {
      uniformCached: () => ({}),
      pipelineSync: (_k: string, code: string) => {
        codes.push(code);
        return {};
      },
      bindGroup: () => ({}),
    });
    const encoder = {
      beginComputePass: () => ({
        setPipeline() {},
        setBindGroup() {},
        dispatchWorkgroups: (x: number, y: number, z: number) => dispatched.push([x, y, z]),
        end() {},
      }),
    } as unknown as GPUCommandEncoder;
    encodeMatmulTc(ctx as unknown as GpuContext, encoder, { ...args(4096, 4096, 4096), variant: 'tc128' });
    // The LM head: B (50257×768, 154 MB) is wide and big, so workgroups walk down M first.
    encodeMatmulTc(ctx as unknown as GpuContext, encoder, { ...args(8192, 768, 50257), transB: true });
    encodeMatmulTc(ctx as unknown as GpuContext, encoder, { ...args(8192, 768, 50257), transB: true, order: 'nFast' });
    expect(dispatched).toEqual([
      [32, 32, 1],
      [8192 / 128, Math.ceil(50257 / 128), 1],
      [Math.ceil(50257 / 128), 8192 / 128, 1],
    ]);
    expect(codes[0]).toMatch(/^const EDGES: bool = false;/m);
    expect(codes[0]).toMatch(/^const M_FAST: bool = false;/m);
    expect(codes[1]).toMatch(/^const EDGES: bool = true;/m);
    expect(codes[1]).toMatch(/^const TRANS_B: bool = true;/m);
    expect(codes[1]).toMatch(/^const M_FAST: bool = true;/m);
    expect(codes[2]).toMatch(/^const M_FAST: bool = false;/m);
  });
});

describe('WGSL specialisation', () => {
  it('sets the constants and leaves no loop marked for unrolling', () => {
    for (const [transA, transB, accumulate] of [
      [false, false, false],
      [true, true, true],
    ]) {
      const src = matmulTcCode({ BM: 128, BN: 64, BK: 32, SG_M: 32, SG_N: 32 }, 32, !!transA, !!transB, !!accumulate, !!accumulate);
      expect(src).toMatch(/^const BN: u32 = 64u;/m);
      expect(src).toMatch(new RegExp(`^const TRANS_B: bool = ${transB};`, 'm'));
      expect(src).toMatch(new RegExp(`^const ACCUMULATE: bool = ${accumulate};`, 'm'));
      expect(src).toMatch(new RegExp(`^const EDGES: bool = ${accumulate};`, 'm'));
      expect(src).not.toMatch(/^\s*\/\/ @unroll$/m);
      expect(src).toMatch(/@unroll/); // the header still describes it
      // 2x2 result matrices per subgroup, BK/16 = 2 steps: 8 multiply-accumulates written out.
      expect(src.match(/subgroupMatrixMultiplyAccumulate\(/g)).toHaveLength(8);
    }
    expect(MATMUL_TC_VARIANTS).toContain('tc128');
  });

  it('unrolls nested loops with the loop variable replaced by each value', () => {
    const src = ['fn f() {', '  // @unroll', '  for (var i = 0u; i < TM; i++) {', '    // @unroll', '    for (var kk = 0u; kk < 32u; kk += 16u) {', '      x[i * 2u + kk] = i;', '    }', '  }', '}', ''].join('\n');
    const out = unrollLoops(src, { TM: 3 });
    const stores = [...out.matchAll(/x\[(\d+)u \* 2u \+ (\d+)u\] = (\d+)u;/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
    const expected: number[][] = [];
    for (let i = 0; i < 3; i++) for (let kk = 0; kk < 32; kk += 16) expected.push([i, kk, i]);
    expect(stores).toEqual(expected);
    expect(out).not.toMatch(/for \(/);
    // Braces stay balanced.
    expect(out.split('{').length).toBe(out.split('}').length);
    expect(() => unrollLoops(src, {})).toThrow(/TM/);
  });
});

describe('f16 reference', () => {
  it.skipIf(typeof (Math as { f16round?: unknown }).f16round !== 'function')('f16round agrees with Math.f16round (skipped where the engine lacks it)', () => {
    const oracle = (Math as unknown as { f16round: (x: number) => number }).f16round;
    const seed = freshSeed();
    const xs = [...randomUniform(4000, seed, -70000, 70000), ...randomUniform(4000, seed + 1, -1e-3, 1e-3), ...randomUniform(2000, seed + 2, -8, 8)];
    // Halfway points between neighbouring f16 values (ties to even) and the overflow edge.
    for (let k = 0; k < 200; k++) {
      const h = oracle((k + 1) * 0.37);
      const up = oracle(h * (1 + 2 ** -10));
      xs.push((h + up) / 2, -(h + up) / 2);
    }
    xs.push(65504, 65519.99, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, -0, Number.NaN, Number.POSITIVE_INFINITY);
    for (const x of xs) expect(Object.is(f16round(x), oracle(x)), `x=${x}: got ${f16round(x)}, want ${oracle(x)}`).toBe(true);
  });

  it('is the fp32 product of f16-rounded inputs, in every transpose layout and with accumulate', () => {
    const seed = freshSeed();
    const [M, K, N] = [7, 33, 5];
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const a = randomUniform(M * K, seed);
        const b = randomUniform(K * N, seed + 1);
        const shape = { M, K, N, transA, transB };
        const got = randomUniform(M * N, seed + 2);
        const ref = got.slice();
        matmulF16AccForward(got, a, b, shape, true);
        // Independent: the fp32 reference (double accumulation) on pre-rounded inputs.
        const prod = new Float32Array(M * N);
        matmulForward(prod, roundToF16(a), roundToF16(b), null, shape);
        for (let i = 0; i < ref.length; i++) ref[i] = ref[i]! + prod[i]!;
        expect(allclose(got, ref, { atol: 1e-5, rtol: 1e-5 }).message).toMatch(/ok/);
        // And it really rounds: on unrounded inputs the fp32 product differs by about 2^-11.
        const exact = new Float32Array(M * N);
        const f16 = new Float32Array(M * N);
        matmulForward(exact, a, b, null, shape);
        matmulF16AccForward(f16, a, b, shape);
        const r = allclose(f16, exact, { atol: 1e-7, rtol: 0 });
        expect(r.ok).toBe(false);
        expect(r.maxAbsErr).toBeLessThan(2 ** -11 * K);
      }
  });
});
